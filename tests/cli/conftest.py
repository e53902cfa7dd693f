"""Fixtures of the CLI tests: dcmtk's storescp as the foreign peer (shared with the node tests)."""

from tests.pacs_node.dimse.conftest import dcmtk_port, storescp  # noqa: F401
