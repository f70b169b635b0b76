"""The emitter (task_rules.md §2, §8 "Emitter") and the per-bundle reconciliation (§7.1, §7.2, §8 "Refresh",
"Transform") on synthetic bundles and task documents: no database."""
import datetime
import uuid

import pytest
from django.utils import timezone

from tasks_management.models import RuleState
from tasks_management.rules import engine, states as st, utils
from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule
from tasks_management.rules.sources import ContactView, ReportView, RuleBundle

AT = timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))


def contact(cid="c1", type_="individual", reported=AT, deleted=False, **fields):
    return ContactView(id=cid, type=type_, name=f"name {cid}", reported_date=reported, deleted=deleted,
                       fields=fields, obj=None, ref=f"individual.individual:{cid}")


def report(rid, form="visit", when=AT, deleted=False, **fields):
    return ReportView(id=rid, ref=f"app.report:{rid}", form=form, reported_date=when, fields=fields,
                      deleted=deleted, obj=None, source="test")


def bundle(c=None, reports=()):
    c = c if c is not None else contact()
    return RuleBundle(subject=("individual.individual", c.id if c else "h1"), contact=c, reports=list(reports))


def rule(**overrides):
    values = dict(name="r", title="t", applies_to="reports", events=[TaskEvent(days=7, start=2, end=2)],
                  actions=[TaskAction(form="follow")])
    values.update(overrides)
    return TaskRule(**values)


def emit(r, b):
    with utils.evaluating_at(AT):
        return engine.emit_rule(r, b)


def test_one_emission_per_report_and_event_with_unique_keys():
    r = rule(events=[TaskEvent(id="a", days=1, start=0, end=0), TaskEvent(id="b", days=2, start=0, end=0)])
    emissions = emit(r, bundle(reports=[report("1"), report("2")]))
    assert [e.key for e in emissions] == ["app.report:1~a~r", "app.report:1~b~r", "app.report:2~a~r",
                                          "app.report:2~b~r"]
    unnamed = emit(rule(), bundle(reports=[report("1")]))
    assert unnamed[0].key == "app.report:1~0~r"  # event index without an id
    contact_rule = rule(applies_to="contacts", events=[TaskEvent(days=3, start=0, end=0)],
                        actions=[TaskAction(type="contact")], resolved_if=lambda *a: False)
    assert [e.key for e in emit(contact_rule, bundle())] == ["individual.individual:c1~0~r"]
    assert emit(contact_rule, RuleBundle(subject=("x.y", "h"), contact=None, reports=[report("1")])) == []


def test_applies_to_type_and_applies_if():
    r = rule(applies_to_type=["visit"], applies_if=lambda rule, b, rep: rep.fields.get("ok"))
    emissions = emit(r, bundle(reports=[report("1", ok=True), report("2", form="other", ok=True), report("3")]))
    assert [e.key.split("~")[0] for e in emissions] == ["app.report:1"]
    by_type = rule(applies_to="contacts", applies_to_type=["group"], actions=[TaskAction(type="contact")],
                   resolved_if=lambda *a: False)
    assert emit(by_type, bundle()) == [] and len(emit(by_type, bundle(contact(type_="group")))) == 1


def test_unknown_applies_to_raises():
    bad = rule()
    object.__setattr__(bad, "applies_to", "people")
    with pytest.raises(ValueError, match="Unrecognised"):
        emit(bad, bundle())


def test_due_dates():
    e, = emit(rule(), bundle(reports=[report("1", when=AT)]))
    assert e.due == utils.add_date(AT, 7) and (e.start_date, e.due_date, e.end_date) == (
        datetime.date(2026, 3, 15), datetime.date(2026, 3, 17), datetime.date(2026, 3, 19))
    no_date = rule(applies_to="contacts", events=[TaskEvent(days=0, start=0, end=0)],
                   actions=[TaskAction(type="contact")], resolved_if=lambda *a: False)
    e, = emit(no_date, bundle(contact(reported=None)))
    assert e.due == utils.add_date(AT, 0)  # today's midnight
    seen = []
    custom = rule(events=[TaskEvent(due_date=lambda r, event, b, rep: seen.append((event, b)) or AT, start=0, end=0)])
    b = bundle(reports=[report("1")])
    emit(custom, b)
    assert seen[0][1] is b and seen[0][0] is custom.events[0]


def test_priority_label_and_content():
    events_seen = []
    r = rule(priority={"level": "high", "label": "p"}, contact_label="Label only",
             actions=[TaskAction(form="follow", modify_content=lambda rl, content, b, rep, ev: (
                 events_seen.append(ev), content.update(extra=1)))])
    e, = emit(r, bundle(reports=[report("1")]))
    assert e.data["priority"] == "high" and e.data["priority_label"] == "p"
    assert e.data["contact_label"] == "Label only" and e.data["for_id"] == "c1"
    assert e.data["actions"] == [{"type": "report", "form": "follow", "label": "Follow up",
                                  "content": {"source": "task", "source_id": "1", "extra": 1}}]
    assert events_seen == [r.events[0]]
    fallback, = emit(rule(priority=3), bundle(reports=[report("1")]))
    assert fallback.data["contact_label"] == "name c1" and fallback.data["priority_score"] == 3.0
    by_function, = emit(rule(contact_label=lambda rl, b, rep: f"for {rep.id}"), bundle(reports=[report("9")]))
    assert by_function.data["contact_label"] == "for 9"
    headless, = emit(rule(), RuleBundle(subject=("x.y", "h"), contact=None, reports=[report("1")]))
    assert headless.data["for_id"] is None and headless.data["contact_label"] is None


def test_default_resolved_if_window_and_trigger_exclusion():
    trigger = report("1", form="follow", when=timezone.make_aware(datetime.datetime(2024, 3, 10, 14)))
    r = rule()  # the resolving form equals the triggering form
    e, = emit(r, bundle(reports=[trigger]))
    assert e.resolved is False  # the trigger never resolves its own task
    inside = report("2", form="follow", when=timezone.make_aware(datetime.datetime(2024, 3, 15, 0)))
    late = report("3", form="follow", when=timezone.make_aware(datetime.datetime(2024, 3, 20, 0, 0, 1)))
    assert [x.resolved for x in emit(r, bundle(reports=[trigger, inside]))][0] is True
    assert [x.resolved for x in emit(r, bundle(reports=[trigger, late]))][0] is False
    custom = rule(resolved_if=lambda rl, b, rep, ev, due: rep.fields.get("done") or rl.default_resolved_if(
        b, rep, ev, due))
    assert emit(custom, bundle(reports=[report("1", done=True)]))[0].resolved is True
    deleted = emit(rule(), bundle(contact(deleted=True), reports=[report("1")]))[0]
    assert deleted.deleted is True  # contact deleted: report tasks cancelled too (CHT's intent)


# --- reconciliation ------------------------------------------------------------------------------------------
class Ctx:
    def __init__(self, at=AT):
        self.at, self.today, self.past, self.future, self.groups = at, utils.local_date(at), 60, 180, {}


def doc(key, state, authored=AT - datetime.timedelta(days=1), start=None, end=None):
    row = {f: None for f in engine.TASK_FIELDS}
    row.update(id=uuid.uuid4(), emission_key=key, rule_name="r", rule_state=state, date_created=authored,
               json_ext={"task_rules": {"state_history": [{"state": state, "at": authored.isoformat()}]}},
               start_date=start, end_date=end, data={})
    return engine._Doc(row)


def emission(key="k", state_for="ready", resolved=False, deleted=False, title="t"):
    day = utils.local_date(AT)
    offsets = {"ready": 0, "draft": 5, "failed": -5}
    due = day + datetime.timedelta(days=offsets[state_for])
    return engine.Emission(key=key, rule=rule(), event_id="0", due=due, due_date=due,
                           start_date=due - datetime.timedelta(days=1), end_date=due + datetime.timedelta(days=1),
                           resolved=resolved, deleted=deleted, data={"title": title})


def reconcile(emissions, docs, at=AT, failed=()):
    stats, inserts, updates = engine.RefreshStats(), [], []
    engine._reconcile(bundle(), emissions, docs, Ctx(at), 1, set(failed), stats, inserts, updates)
    return inserts, updates


def test_refresh_edge_cases():
    assert reconcile([], []) == ([], [])  # no input, nothing
    orphan = doc("k", "Ready")
    inserts, updates = reconcile([], [orphan])
    assert updates == [orphan] and orphan.rule_state == RuleState.CANCELLED  # task without emission
    ready = doc("k", "Ready")
    inserts, updates = reconcile([emission(title="changed")], [ready])
    assert inserts == [] and updates == [ready] and ready.data == {"title": "changed"}
    assert [h["state"] for h in ready.rule_ext["state_history"]] == ["Ready"]  # history unchanged
    same = doc("k", "Ready")
    same.data, same.due_date = {"title": "t"}, utils.local_date(AT)
    same.start_date, same.end_date = same.due_date - datetime.timedelta(days=1), same.due_date + datetime.timedelta(
        days=1)
    assert reconcile([emission()], [same]) == ([], [])  # the same emission persists: nothing written
    invalid = doc("k", "Ready")
    bad = emission()
    bad.due_date = bad.start_date = bad.end_date = None
    bad.start_date, bad.end_date = utils.local_date(AT), utils.local_date(AT)  # timely, but no due date
    reconcile([bad], [invalid])
    assert invalid.rule_state == RuleState.CANCELLED and invalid.rule_ext["state_reason"] == "invalid"
    assert reconcile([emission(deleted=True)], []) == ([], [])  # never born cancelled
    done = doc("k", "Completed")
    assert reconcile([], [done]) == ([], [])  # terminal docs are not cancelled for lack of emission


def test_transform_terminal_docs():
    completed = doc("k", "Completed")
    inserts, updates = reconcile([emission(resolved=True, title="new")], [completed])
    assert inserts == [] and updates == []  # same terminal state: unchanged, not rewritten
    inserts, updates = reconcile([emission()], [doc("k", "Completed")])
    assert len(inserts) == 1 and inserts[0]["rule_state"] == "Ready"  # a terminal doc is never reopened
    cancelled = doc("k", "Cancelled")
    inserts, _ = reconcile([emission()], [cancelled])
    assert len(inserts) == 1 and cancelled.rule_state == "Cancelled"  # stays cancelled; a new doc


def test_clock_rewind_and_duplicates():
    future = doc("k", "Ready", authored=AT + datetime.timedelta(days=1))
    inserts, updates = reconcile([emission()], [future])
    assert len(inserts) == 1 and future.rule_state == RuleState.CANCELLED  # new doc, future doc cancelled
    failed_future = doc("k", "Failed", authored=AT + datetime.timedelta(days=1))
    reconcile([emission()], [failed_future])
    assert failed_future.rule_state == "Failed"
    older, newer = doc("k", "Ready", authored=AT - datetime.timedelta(days=3)), doc("k", "Ready")
    inserts, updates = reconcile([emission()], [older, newer])
    assert inserts == [] and older.rule_state == RuleState.CANCELLED and older.rule_ext["state_reason"] == "duplicate"
    assert newer.rule_state == RuleState.READY  # equal readiness: the most recent wins
    draft, ready = doc("k", "Draft", authored=AT - datetime.timedelta(hours=1)), doc(
        "k", "Ready", authored=AT - datetime.timedelta(days=2))
    reconcile([emission()], [draft, ready])
    assert draft.rule_state == RuleState.CANCELLED and ready.rule_state == RuleState.READY  # most ready wins
    terminal_duplicate = doc("k", "Failed", authored=AT - datetime.timedelta(days=9))
    _, updates = reconcile([emission()], [terminal_duplicate, doc("k", "Ready")])
    assert terminal_duplicate not in updates  # already terminal: not re-cancelled
    two = [emission(state_for="draft"), emission()]
    inserts, _ = reconcile(two, [])
    assert [i["rule_state"] for i in inserts] == ["Ready"]  # duplicate emissions keep the most ready


def test_not_timely_emissions_and_failed_rules():
    far = emission()
    far.start_date = far.due_date = far.end_date = utils.local_date(AT) + datetime.timedelta(days=200)
    assert reconcile([far], []) == ([], [])
    kept = doc("k", "Ready")
    assert reconcile([], [kept], failed=["r"]) == ([], [])  # the rule raised: its tasks are left untouched
    assert kept.rule_state == "Ready"


def test_readiness_order():
    order = sorted(["Cancelled", "Ready", "Failed", "Draft", "Completed", "x"], key=st.readiness, reverse=True)
    assert order == ["Ready", "Draft", "Completed", "Failed", "Cancelled", "x"]
