"""The token filter's pure modules run on the system python3 inside Orthanc; here they are
imported from central/orthanc/plugin with the venv python (they use the standard library only).
"""

from __future__ import annotations

import sys
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "central" / "orthanc" / "plugin"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))
