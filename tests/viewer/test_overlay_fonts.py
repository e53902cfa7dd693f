"""Patient names in every script the app supports are drawn in the image corners.

Issue 10: a Cyrillic name ("Иванов, Иван Петрович") was blank in the viewer's corner
overlays (VTK's own fonts hold Latin-1 only); only the patient ID showed.  These tests
render the real corner-text actors offscreen and read the pixels back.
"""

from __future__ import annotations

import numpy as np
import pytest

from workstation.resources import fonts

pytestmark = pytest.mark.vtk

NAMES = {
    "cyrillic": "Иванов, Иван Петрович",
    "greek": "Παπαδόπουλος, Νίκος",
    "latin1": "Müller, Zoë Ñúñez",
    "cjk": "山田^太郎",
}
SIZE = (420, 120)


def _render(text: str, *, stock_font: bool = False) -> np.ndarray:
    """The upper-left corner text of a viewport drawn alone; (rows, cols) brightness."""
    import vtkmodules.vtkRenderingFreeType
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import (
        vtkRenderer,
        vtkRenderWindow,
        vtkWindowToImageFilter,
    )

    from workstation.viewer._vtk.vtk_layers import CornerText

    renderer = vtkRenderer()
    renderer.SetBackground(0, 0, 0)
    window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(*SIZE)
    window.AddRenderer(renderer)
    corners = CornerText(renderer)
    corners.place(*SIZE)
    if stock_font:  # what the viewer did before: VTK's own Courier
        corners.actors[2].GetTextProperty().SetFontFamilyAsString("Courier")
        corners.actors[2].SetInput(text)
        corners.actors[2].SetVisibility(True)
    else:
        corners.SetText(2, text)
    window.Render()
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.ReadFrontBufferOff()
    grab.Update()
    image = grab.GetOutput()
    w, h, _ = image.GetDimensions()
    rgb = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(h, w, -1)
    window.Finalize()
    return rgb[..., :3].max(axis=2)


def _lit(pixels: np.ndarray) -> int:
    return int((pixels > 100).sum())


@pytest.mark.parametrize("script", sorted(NAMES))
def test_patient_name_in_each_script_is_drawn(script: str) -> None:
    text = NAMES[script]
    if script == "cjk" and fonts.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian fonts-wqy-zenhei or fonts-noto-cjk)")
    assert fonts.font_for(text) is not None, "no TrueType font found for overlays"
    lit = _lit(_render(text))
    # Every glyph draws something: at least ~15 lit pixels per character.
    assert lit > 15 * len(text.replace(" ", "")), (script, lit)


def test_stock_vtk_font_left_cyrillic_blank() -> None:
    """The reference the fix is measured against: VTK's Courier draws no Cyrillic."""
    cyrillic = "Иванов"
    latin = "Ivanov"
    assert _lit(_render(latin, stock_font=True)) > 60
    stock = _lit(_render(cyrillic, stock_font=True))
    fixed = _lit(_render(cyrillic))
    assert fixed > 4 * max(stock, 1), (stock, fixed)


def test_font_choice_by_script() -> None:
    assert fonts.needs_cjk("山田") and fonts.needs_cjk("김") and not fonts.needs_cjk("Иван")
    latin = fonts.latin_font()
    assert latin is not None and latin.name == "DejaVuSansMono.ttf"
    bold = fonts.latin_font(bold=True)
    assert bold is not None and bold.name == "DejaVuSansMono-Bold.ttf"
    assert fonts.font_for("Иванов") == latin
    if fonts.cjk_font() is not None:
        assert fonts.font_for("山田 Yamada") == fonts.cjk_font()
