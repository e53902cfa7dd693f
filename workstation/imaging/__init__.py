"""Pixels and geometry for display: no Qt, no VTK.

Public API (import from the modules; this package imports nothing heavy):

- :func:`workstation.imaging.decode.decode_frame` — one frame -> ``Frame | CannotDisplay``
- :class:`workstation.imaging.frame.Frame`, :class:`~workstation.imaging.frame.FrameRef`
- :func:`workstation.imaging.render.to_display_u8` — what the viewer shows (8-bit)
- :func:`workstation.imaging.windowing.apply_voi`, ``VoiWindow``, ``min_max_window``
- :func:`workstation.imaging.calibration.calibration_of` -> ``Calibration``
- :func:`workstation.imaging.orientation.orientation_labels`
- :mod:`workstation.imaging.geometry` — ``PlaneGeometry``, ``sort_by_position``,
  ``slice_spacing_mm``, ``check_stack``
- :func:`workstation.imaging.volume.assemble_volume` -> ``Volume`` (int16, one copy)
- :class:`workstation.imaging.loader.SeriesLoader` over a
  :class:`~workstation.imaging.pool.DecodePool` and a
  :class:`~workstation.imaging.cache.FrameCache`
- :func:`workstation.imaging.png.write_png`
"""
