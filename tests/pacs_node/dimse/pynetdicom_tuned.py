"""A pytest plugin that installs our pynetdicom tuning (reactors, context copy, C-STORE
responses) before pynetdicom's own tests run: ``-p tests.pacs_node.dimse.pynetdicom_tuned``."""

from workstation.pacs_node.dimse.pynetdicom_tuning import install_tuning

if not install_tuning():
    raise RuntimeError("the pynetdicom tuning refused to install: see the warning above")
