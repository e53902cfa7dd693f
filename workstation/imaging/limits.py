"""Size caps checked before any pixel buffer is allocated.

Every size read from a file (rows, columns, frames, samples, bits, LUT lengths) is
checked against these before memory is reserved, so a hostile header cannot make the
workstation allocate gigabytes.
"""

from __future__ import annotations

#: Largest decoded frame we allocate (a 4096x4096 RGB 16-bit frame is 96 MiB).
MAX_FRAME_BYTES = 512 * 1024 * 1024
#: Largest edge of an image in pixels (Rows and Columns are 16-bit in DICOM anyway).
MAX_EDGE = 65535
#: Most frames one file may declare.
MAX_FRAMES = 100_000
#: Largest file read whole into memory (compressed or deflated pixel data).
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
#: Largest inflated size of a deflated data set.
MAX_INFLATED_BYTES = 2 * 1024 * 1024 * 1024
#: Most entries in a LUT (the LUT Descriptor allows at most 65536).
MAX_LUT_ENTRIES = 65536
#: Largest volume assemble_volume allocates.
MAX_VOLUME_BYTES = 8 * 1024 * 1024 * 1024
