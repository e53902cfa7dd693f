"""MPR, thick slabs and 3-D rendering of a volume (the engine: numpy, no Qt, no VTK).

- :mod:`workstation.mpr.stack`: does a series form a volume? phases, gantry tilt, gaps.
- :mod:`workstation.mpr.volume`: :class:`~workstation.mpr.volume.MprVolume`, the voxels
  held once with their exact (possibly sheared) affine.
- :mod:`workstation.mpr.geometry`: planes in LPS (axial, coronal, sagittal, oblique),
  orientation labels, stacks of planes covering a volume.
- :mod:`workstation.mpr.reslice`: planes and slabs sampled from a volume (through
  ``_vtk/vtk_reslice.py``, the only place ``vtkImageReslice`` is used).
- :mod:`workstation.mpr.export`: a reformatted stack as a derived DICOM series.
- :mod:`workstation.mpr.presets`: 3-D rendering presets (data in ``workstation/resources``).

VTK lives in ``_vtk/``, Qt in ``_qt/``; both are imported lazily.
"""
