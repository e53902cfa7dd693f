"""A pytest plugin that installs our pynetdicom tuning (reactors, context copy, C-STORE
responses) before pynetdicom's own tests run: ``-p tests.pacs_node.dimse.pynetdicom_tuned``."""

from workstation.pacs_node.dimse import reactor, store_response
from workstation.pacs_node.dimse.contexts import install_fast_copy

reactor.install()
install_fast_copy()
store_response.install()
