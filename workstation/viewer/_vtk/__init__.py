"""VTK drawing of the 2-D viewer (imported only by the Qt layer)."""
