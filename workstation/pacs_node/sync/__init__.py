"""Offline sync: a persistent outbox/inbox in the archive database and its worker.

Typical wiring (the app and ``workstation node serve`` do this)::

    queue = SyncQueue(archive.engine)
    worker = SyncWorker(queue, archive, remote_resolver(settings, archive, tokens)).start()
    queue.enqueue_send_study(study_uid, uids, target="central")
    worker.wake()
"""
