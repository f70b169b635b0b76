"""Run the rules engine now (task_rules.md §14): refresh rule-generated tasks and print what changed."""
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone


class _DryRun(Exception):
    pass


def _progress_bar(total, enabled):
    """A tqdm bar when tqdm is installed (and output is wanted), else None."""
    if not enabled or not total:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="subject", desc="rule tasks")


class Command(BaseCommand):
    help = ("Refresh rule-generated tasks: the dirty subjects (default), every subject (--all) or the given ones "
            "(--contact app_label.model:pk); --rule limits the rules; --dry-run rolls everything back.")

    def add_arguments(self, parser):
        parser.add_argument("--contact", action="append", default=[], metavar="APP.MODEL:PK",
                            help="a subject to refresh, e.g. individual.individual:<uuid> (repeatable)")
        parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")
        parser.add_argument("--all", action="store_true", help="every contact and headless subject")
        parser.add_argument("--at", help="evaluate as of this ISO datetime (default: now)")
        parser.add_argument("--dry-run", action="store_true", help="compute and count, then roll back")
        parser.add_argument("--purge", action="store_true", help="also purge old terminal rule tasks")
        parser.add_argument("--decay", action="store_true", help="also apply the temporal decay")
        parser.add_argument("--wait", type=float, default=60, help="seconds to wait for a running refresh")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        from tasks_management.rules import engine
        from tasks_management.rules.registry import RULES

        at = self._at(options["at"])
        unknown = sorted(set(options["rule"]) - set(RULES))
        if unknown:
            raise CommandError(f"Unknown rule(s): {', '.join(unknown)}; registered: {', '.join(sorted(RULES))}")
        subjects = None
        if options["contact"]:
            subjects = []
            for ref in options["contact"]:
                label, _, pk = ref.partition(":")
                if not pk or "." not in label:
                    raise CommandError(f"--contact {ref}: expected app_label.model:pk")
                subjects.append((label.lower(), pk))
        user = engine.acting_user()
        if user is None:
            raise CommandError("No acting user: create a superuser or an IMIS administrator first")
        total = len(subjects) if subjects else engine.count_subjects(everything=options["all"], at=at)
        bar = _progress_bar(total, not options["no_progress"] and options["verbosity"] > 0)
        try:
            with transaction.atomic():
                stats = engine.refresh(subjects=subjects, at=at, rule_names=options["rule"] or None, user=user,
                                       everything=options["all"], wait=options["wait"],
                                       progress=bar.update if bar else None)
                decayed = engine.update_temporal_states(at=at, user=user) if options["decay"] else 0
                purged = engine.purge(at=at) if options["purge"] else 0
                if options["dry_run"]:
                    raise _DryRun()
        except _DryRun:
            pass
        except engine.RefreshBusy as exc:
            raise CommandError(str(exc))
        finally:
            if bar is not None:
                bar.close()
        counts = stats.as_dict()
        prefix = "[dry run, rolled back] " if options["dry_run"] else ""
        self.stdout.write(f"{prefix}subjects={counts['subjects']} emissions={counts['emissions']} "
                          f"created={counts['created']} updated={counts['updated']} cancelled={counts['cancelled']} "
                          f"errors={counts['errors']} decayed={decayed} purged={purged}")

    @staticmethod
    def _at(value):
        if not value:
            return timezone.now()
        try:
            at = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--at {value}: not an ISO datetime")
        return timezone.make_aware(at) if timezone.is_naive(at) else at
