"""The tools as a Qt-free interaction model: pointer and key events in, annotations out.

A 2-D viewport, an MPR plane and a test drive the same code:

- :mod:`~workstation.viewer.interaction.events`: what a face hands in (a pointer at an
  image pixel, with the screen position and zoom it happened at; a key);
- :mod:`~workstation.viewer.interaction.tools`: the tools and how a drawing in progress
  becomes complete;
- :mod:`~workstation.viewer.interaction.session`: one view's tool state machine (active
  tool, shape in progress, selection with a pixel tolerance, handle drag, delete, W/L,
  pan and zoom drags);
- :mod:`~workstation.viewer.interaction.host`: what a view offers the session (the
  picture under the tools, its annotations, where to store them);
- :mod:`~workstation.viewer.interaction.viewport_host` and
  :mod:`~workstation.viewer.interaction.plane_host`: that offer for a 2-D viewport and for
  a reformatted plane.

Measurements come out of :func:`workstation.viewer.annotations.evaluate`: lengths in mm,
angles in degrees, ROI statistics in modality units (HU for CT) with the area, probe
values, and the points in patient LPS when the picture has a plane.
"""
