"""Qt widgets of the 2-D viewer."""
