"""``workstation sync``: the offline outbox/inbox.

- ``sync status [--json]``: jobs with state, progress, attempts and last error.
- ``sync queue STUDY_UID... [--to TARGET] [--user NAME --password-stdin]``: queue
  studies to send (default ``central``); permission-checked and audited.
- ``sync fetch STUDY_UID... [--from TARGET]``: queue studies to bring in.
- ``sync run [--until-empty] [--timeout S]``: work the queue in the foreground.
- ``sync retry ID`` / ``sync cancel ID``.

Exit codes: 0 ok, 1 jobs failed (run), 4 unknown job/study, 5 queue not drained in time.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from workstation.cli import _remote, exit_codes
from workstation.cli._acting import acts_for_person
from workstation.cli._verbs import add_command, add_verb
from workstation.cli.console import print_json
from workstation.cli.context import CliContext
from workstation.i18n import _

if TYPE_CHECKING:
    from workstation.auth.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_command(sub, "sync", _("the offline outbox/inbox to the central archive"))
    s = add_verb(verbs, "status", run_status, _("list sync jobs"))
    _remote.add_common(s)
    s.add_argument("--all", action="store_true", help=_("include finished jobs"))
    q = add_verb(verbs, "queue", run_queue, _("queue local studies to send"), actor=True)
    q.add_argument("studies", nargs="+", metavar="STUDY_UID")
    q.add_argument("--to", dest="target", default="central")
    _remote.add_common(q)
    f = add_verb(verbs, "fetch", run_fetch, _("queue studies to bring in from a peer"))
    f.add_argument("studies", nargs="+", metavar="STUDY_UID")
    f.add_argument("--from", dest="target", default="central")
    _remote.add_common(f)
    r = add_verb(verbs, "run", run_worker, _("work the queue in the foreground"))
    r.add_argument("--until-empty", action="store_true", help=_("stop when nothing is due"))
    r.add_argument("--timeout", type=float, default=None, help=_("give up after S seconds"))
    _remote.add_common(r)
    for name, fn in (("retry", run_retry), ("cancel", run_cancel)):
        a = add_verb(verbs, name, fn, _("{verb} a job").format(verb=name))
        a.add_argument("job_id", type=int, metavar="ID")
        _remote.add_common(a)


def sync_queue(ctx: CliContext) -> Any:
    from workstation.pacs_node.sync.queue import SyncQueue

    return SyncQueue(ctx.archive.engine)


def run_status(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.sync.jobs import ACTIVE_STATES, JobState

    states = None if args.all else [*ACTIVE_STATES, JobState.FAILED]
    jobs = sync_queue(ctx).jobs(states=states)
    if args.json:
        print_json([j.to_json() for j in jobs])
        return exit_codes.OK
    if not jobs:
        print(_("Nothing waiting."))
    for j in jobs:
        print(
            f"#{j.id} {j.direction}/{j.kind} -> {j.target}  {j.state}  {j.done}/{j.total}"
            + (f"  ({j.failed} refused)" if j.failed else "")
            + (f"  {_('attempts')}: {j.attempts}" if j.attempts else "")
            + (f"\n    {j.last_error}" if j.last_error else "")
        )
    return exit_codes.OK


@acts_for_person
def run_queue(ctx: CliContext, args: argparse.Namespace, session: Session) -> int:
    queue = sync_queue(ctx)
    actions = ctx.services.actions(session)
    for uid in args.studies:
        if not ctx.archive.study_instances(uid):
            print(_("Study {uid} is not in the local archive.").format(uid=uid), file=sys.stderr)
            return exit_codes.NOT_FOUND
    # Through the services: permission-checked and audited (study_send, queued).
    ids = [actions.queue_send_study(uid, queue, args.target) for uid in args.studies]
    return _print_ids(args, ids)


def run_fetch(ctx: CliContext, args: argparse.Namespace) -> int:
    queue = sync_queue(ctx)
    ids = [queue.enqueue_retrieve_study(uid, target=args.target) for uid in args.studies]
    return _print_ids(args, ids)


def _print_ids(args: argparse.Namespace, ids: list[int]) -> int:
    if args.json:
        print_json({"queued": ids})
    else:
        print(_("Queued job(s): {ids}").format(ids=", ".join(f"#{i}" for i in ids)))
    return exit_codes.OK


def run_worker(ctx: CliContext, args: argparse.Namespace) -> int:
    from workstation.pacs_node.sync.jobs import ACTIVE_STATES, JobState
    from workstation.pacs_node.sync.remotes import remote_resolver
    from workstation.pacs_node.sync.worker import SyncWorker

    queue = sync_queue(ctx)
    tokens = _remote.token_provider(ctx, args)
    worker = SyncWorker(queue, ctx.archive, remote_resolver(ctx.settings, ctx.archive, tokens))
    from workstation.services.report_upstream import register_report_upstream

    register_report_upstream(worker, ctx.settings, tokens)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    try:
        while deadline is None or time.monotonic() < deadline:
            if worker.run_once():
                continue
            if args.until_empty and not queue.jobs(states=ACTIVE_STATES, limit=1):
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        print(_("Stopped; unfinished jobs stay queued."), file=sys.stderr)
        return exit_codes.CANCELLED
    remaining = queue.jobs(states=ACTIVE_STATES)
    failed = queue.jobs(states=[JobState.FAILED])
    if args.json:
        print_json(
            {"remaining": [j.to_json() for j in remaining], "failed": [j.to_json() for j in failed]}
        )
    else:
        print(_("{n} job(s) still queued, {f} failed.").format(n=len(remaining), f=len(failed)))
    if remaining:
        return exit_codes.PEER_ERROR
    return exit_codes.PARTIAL if failed else exit_codes.OK


def run_retry(ctx: CliContext, args: argparse.Namespace) -> int:
    return _job_action(args, sync_queue(ctx).retry(args.job_id))


def run_cancel(ctx: CliContext, args: argparse.Namespace) -> int:
    return _job_action(args, sync_queue(ctx).cancel(args.job_id))


def _job_action(args: argparse.Namespace, changed: bool) -> int:
    if args.json:
        print_json({"job": args.job_id, "changed": changed})
    elif not changed:
        print(_("Job #{id} is not in a state that allows this.").format(id=args.job_id))
    return exit_codes.OK if changed else exit_codes.NOT_FOUND
