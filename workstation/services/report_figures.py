"""Key images of a study as PNG figures for its report (the viewer's marks, drawn as the
viewer shows them: modality LUT, the file's window, presentation LUT)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from workstation.reports.render_pdf import Figure
from workstation.reports.templates import label

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive

logger = logging.getLogger(__name__)


def key_image_figures(
    settings: Any, archive: Archive, study_uid: str, limit: int, language: str
) -> list[Figure]:
    """Up to ``limit`` key images, captioned with series and image number in ``language``."""
    from workstation.imaging.decode import decode_frame
    from workstation.imaging.errors import CannotDisplay
    from workstation.imaging.png import encode_png
    from workstation.imaging.render import display_voi, to_display_u8
    from workstation.viewer.store import key_images

    series_numbers = {
        s.series_instance_uid: s.series_number for s in archive.find_series(study_uid)
    }
    figures = []
    for mark in key_images(settings, study_uid)[:limit]:
        try:
            instance = archive.get_instance(mark.sop_instance_uid)
        except LookupError:
            logger.info("key image %s is no longer in the archive", mark.sop_instance_uid)
            continue
        frame = decode_frame(str(instance.path), mark.frame_index)
        if isinstance(frame, CannotDisplay):
            logger.info("key image %s cannot be drawn: %s", mark.sop_instance_uid, frame.reason)
            continue
        voi = None if frame.is_color else display_voi(frame)
        png = encode_png(to_display_u8(frame, voi))
        caption = (
            f"{label('series', language)} {series_numbers.get(mark.series_instance_uid) or '-'}"
            f" · {label('image', language)} {instance.instance_number or '-'}"
        )
        if (instance.number_of_frames or 1) > 1:
            caption += f" · {label('frame', language)} {mark.frame_index + 1}"
        figures.append(Figure(png, caption))
    return figures
