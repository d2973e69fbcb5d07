"""Syncs, webhook deliveries and the periodic tick as jobs (see ``base.JobRunner``)."""

from typing import TYPE_CHECKING

from unified_ats.jobs.base import JobCounts, JobKind, JobRunner
from unified_ats.jobs.inprocess import InProcessRunner

if TYPE_CHECKING:
    from unified_ats.services import Services


async def make_runner(services: "Services") -> JobRunner:
    """procrastinate on PostgreSQL (``auto``), else the in-process runner."""
    if services.settings.uses_procrastinate():
        from unified_ats.jobs.pg import ProcrastinateRunner

        runner = ProcrastinateRunner(services, services.settings)
        await runner.open()
        return runner
    return InProcessRunner(services)


__all__ = ["InProcessRunner", "JobCounts", "JobKind", "JobRunner", "make_runner"]
