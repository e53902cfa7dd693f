"""The viewer's VTK overlays can draw every letter of the translated overlay texts.

VTK's built-in Courier has Latin-1 only: Russian overlays ("Ш 400 Ц 40", "10 мм") and
Cyrillic patient names drew as gaps.  The text actors use a Unicode font file now."""

from __future__ import annotations

import sys

import pytest

vtk_core = pytest.importorskip("vtkmodules.vtkRenderingCore")
vtk_data = pytest.importorskip("vtkmodules.vtkCommonDataModel")
vtk_numpy = pytest.importorskip("vtkmodules.util.numpy_support")
pytest.importorskip("vtkmodules.vtkRenderingFreeType")

from tests.i18n.catalog_files import TRANSLATED, catalog, forms  # noqa: E402
from workstation.viewer._vtk.vtk_fonts import unicode_font_files, use_unicode_font  # noqa: E402

pytestmark = pytest.mark.vtk

#: The messages drawn into the image by VTK (overlays, scale bar, measurement labels).
OVERLAY_MESSAGES = (
    "Se {number}: {description}",
    "Im {n}/{total}",
    "★ key image",
    "VOI LUT",
    "W {width:.0f} L {center:.0f}",
    "Zoom {percent:.0f}%",
    "uncalibrated",
    "(at detector)",
    "{mm} mm",
    "{cm} cm",
    "mm",
    "mm²",
    "px",
    "px²",
    "mean {mean} SD {sd} {unit}\nmin {min} max {max}\narea {area} {area_unit}",
)


def _ink(prop: object, text: str) -> int:
    image = vtk_data.vtkImageData()
    assert vtk_core.vtkTextRenderer().RenderString(prop, text, image, [0, 0], 96)
    pixels = vtk_numpy.vtk_to_numpy(image.GetPointData().GetScalars())
    return int(pixels[:, -1].sum())


def _letters(language: str) -> set[str]:
    out: set[str] = set()
    for m in catalog(language):
        if m.id in OVERLAY_MESSAGES:
            for text in forms(m):
                out |= {c for c in text if c.isalpha() or c in "★²°%"}
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="font paths checked on Linux")
def test_a_unicode_font_is_found() -> None:
    assert unicode_font_files() is not None, "install fonts-dejavu-core"


def test_vtk_courier_cannot_draw_cyrillic_but_ours_can() -> None:
    courier = vtk_core.vtkTextProperty()
    courier.SetFontFamilyAsString("Courier")
    ours = vtk_core.vtkTextProperty()
    use_unicode_font(ours)
    if unicode_font_files() is None:
        pytest.skip("no Unicode font file on this system")
    assert _ink(courier, "Ш") == 0 < _ink(courier, "W")
    assert _ink(ours, "Ш") > 0


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_overlay_letter_has_a_glyph(language: str) -> None:
    if unicode_font_files() is None:
        pytest.skip("no Unicode font file on this system")
    regular, bold = vtk_core.vtkTextProperty(), vtk_core.vtkTextProperty()
    use_unicode_font(regular)
    use_unicode_font(bold, bold=True)
    letters = _letters(language)
    assert len(letters) > 15
    missing = sorted(c for c in letters for p in (regular, bold) if _ink(p, c) == 0)
    assert not missing, f"{language}: no glyph for {missing}"
