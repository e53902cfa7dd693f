"""2-D viewing: viewports, layouts, tools, measurements, annotations, key images, cine.

Pure-Python models live here (no Qt, no VTK) so they run and test headless:
:mod:`~workstation.viewer.model` (viewports, layout, sync), :mod:`.measurements`,
:mod:`.annotations`, :mod:`.store` (annotations and key images in the archive database),
:mod:`.sr_export` (DICOM SR TID 1500).  VTK drawing is in ``_vtk/``, Qt widgets in
``_qt/``; the app hosts :class:`workstation.viewer._qt.qt_viewer.QtViewer`.
"""
