"""A running suite upgraded to the version where administration owns the organisation
(issue 19) loses no facility and publishes no duplicate.

The old version is the code of :data:`OLD` (the last where staffing owned and published the
organisation), extracted from git and run as it was: its staffing publishes the seed county
and registers one more facility through its own API. Then, as an operator upgrading does,
the old staffing is stopped, its temporary right to write ``organisation.*`` is revoked, and
the new administration, staffing (on the old staffing's database: its migrations upgrade it
in place) and pharmacy (a consumer with a fresh database) start. Administration adopts what
the topics say instead of announcing the county again; every consumer has every facility;
a facility registered afterwards reaches them as before.

The old tree runs with its own ``services``/``libs`` first on ``sys.path`` (its cwd and
``PYTHONPATH``). The installed project's entry points (``county_backbone.services``) name
the new services, ``administration`` among them, which the old tree lacks: the old code's
``definitions()`` would fail to load it. So the old tree is given its own distribution
metadata (its ``pyproject.toml``'s entry points, in a ``.dist-info`` at its root):
``importlib.metadata`` keeps the first distribution of a name on ``sys.path``, which is then
the old tree's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import ACLFilter

from libs.events.access import Grant, acl_bindings, apply_access
from libs.events.codec import decode
from libs.events.topics import admin_client
from libs.platform.auth import Role
from tests.conftest import STUCK_START_S, Suite
from tests.support.brokers import TestBroker, credentials_of, prefix_of
from tests.support.kafka import read_all, wait_for
from tests.support.services import REPO_ROOT, ServiceHandle, start_service, wait_until_ready

pytestmark = pytest.mark.parametrize("broker", ["kafka"], indirect=True)

#: The last version in which staffing owned and published the organisation.
OLD = "408e4f4"
TOPICS = ("organisation.community", "organisation.facility")
SEED_FACILITIES = 23  # infra/county/seed-county.yaml
SEED_COMMUNITIES = 2
#: Registered through the old staffing's API: in no configuration, only on the topic.
EXTRA: dict[str, Any] = {
    "facility_id": "QS-T21",
    "name": "白云镇卫生院",
    "community_id": "QS-MC1",
    "tier": "primary",
    "facility_type": "township_centre",
    "departments": [{"department_id": "QS-T21-GP", "name": "全科", "specialty": "general"}],
}
#: Registered through administration after the upgrade.
LATER: dict[str, Any] = {
    "facility_id": "QS-T22",
    "name": "金竹镇卫生院",
    "community_id": "QS-MC2",
    "tier": "primary",
    "facility_type": "township_centre",
    "departments": [{"department_id": "QS-T22-GP", "name": "全科", "specialty": "general"}],
}
#: The old staffing's temporary right: what the old version's grants gave it, and the new
#: version's give administration alone.
OLD_OWNER = Grant("staffing", frozenset(TOPICS), frozenset(), None)


def _git(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(REPO_ROOT), *args], check=False, **kwargs)


def old_tree(destination: Path) -> Path:
    """The code of :data:`OLD`, extracted into ``destination``, with its own entry points."""
    # By hand a shallow clone may skip it; CI must run it, so there it fails instead.
    unavailable = pytest.fail if os.environ.get("CI") else pytest.skip
    if shutil.which("git") is None:
        unavailable("git is not installed: the upgrade test needs the old version's code")
    found = _git("rev-parse", "--verify", "--quiet", f"{OLD}^{{commit}}", capture_output=True)
    if found.returncode != 0:
        unavailable(f"commit {OLD} is not in this clone (a shallow clone?): fetch its history")
    commit = found.stdout.decode().strip()
    destination.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit], stdout=subprocess.PIPE
    )
    subprocess.run(["tar", "-x", "-C", str(destination)], stdin=archive.stdout, check=True)
    assert archive.wait() == 0, "git archive failed"
    _own_metadata(destination)
    return destination


def _own_metadata(tree: Path) -> None:
    """A ``.dist-info`` at the tree's root with the old ``pyproject.toml``'s name, version
    and entry points, so that the old code finds its own services, not the installed ones."""
    project = tomllib.loads((tree / "pyproject.toml").read_text("utf-8"))["project"]
    name = project["name"].replace("-", "_")
    info = tree / f"{name}-{project['version']}.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
    info.joinpath("entry_points.txt").write_text("\n".join(lines) + "\n")


def check_old_imports(tree: Path) -> None:
    """What the old process imports is the old tree's: its services package and its
    declared services (no administration)."""
    probe = (
        "import json, services.staffing, libs.platform.service as s;"
        "print(json.dumps([services.staffing.__file__, sorted(s.definitions())]))"
    )
    inherited = os.environ.get("PYTHONPATH", "")  # as start_service puts it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(tree), inherited) if p)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tree, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    module, services = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert Path(module).resolve().is_relative_to(tree.resolve()), module
    assert "staffing" in services and "administration" not in services, services


def set_old_owner(bootstrap: str, present: bool) -> None:
    """Give (or take back) the old staffing principal's write on ``organisation.*``."""
    prefix, admin = prefix_of(bootstrap), credentials_of(bootstrap)
    if present:
        apply_access(bootstrap, admin, prefix=prefix, selected=[OLD_OWNER])
        return
    filters = [
        ACLFilter(a.principal, a.host, a.operation, a.permission_type, a.resource_pattern)
        for a in acl_bindings(OLD_OWNER, prefix)
    ]
    client = admin_client(bootstrap, admin, "upgrade-test", request_timeout_ms=15_000)
    try:
        outcome = client.delete_acls(filters)
    finally:
        client.close()
    deleted = [acl for _, acls, error in outcome if error.errno == 0 for acl in acls]
    assert len(deleted) == len(filters), outcome


def organisation_events(bootstrap: str) -> dict[str, list[Any]]:
    return {t: [decode(r.value) for r in read_all(bootstrap, t)] for t in TOPICS}


def registered(events: dict[str, list[Any]]) -> Counter[str]:
    """How many times each facility was announced as registered."""
    return Counter(
        e.subject
        for e in events["organisation.facility"]
        if e.type == "organisation.facility.registered.v1"
    )


def ids(rows: Any) -> set[str]:
    items = rows["items"] if isinstance(rows, dict) else rows
    return {row["facility_id"] if "facility_id" in row else row["staff_id"] for row in items}


def timetable(staffing: ServiceHandle) -> str:
    return httpx.get(f"{staffing.url}/public/timetable", timeout=10).text


def run_old_version(suite: Suite, tree: Path, database: str) -> tuple[dict[str, Any], set[str]]:
    """The old suite at work: its staffing publishes the seed county and registers
    :data:`EXTRA`; then it stops. Returns the topics' events and the staff it had."""
    set_old_owner(suite.bootstrap, True)
    old = start_service(
        "staffing",
        bootstrap=suite.bootstrap,
        database_url=database,
        data_dir=suite.data_dir,
        cwd=tree,
        pythonpath=tree,
        ready_timeout_s=STUCK_START_S,
    )
    suite.started["staffing"] = old
    wait_for(
        lambda: len(registered(organisation_events(suite.bootstrap))) == SEED_FACILITIES,
        what="the old staffing's seed county on the topic",
        interval_s=1,
    )
    with old.client(Role.COUNTY_ADMIN) as admin:  # the new staffing has no such route
        created = admin.post("/organisation/facilities", json=EXTRA)
        assert created.status_code == 201, created.text
    wait_for(
        lambda: EXTRA["facility_id"] in registered(organisation_events(suite.bootstrap)),
        what="the facility registered through the old staffing's API on the topic",
        interval_s=1,
    )
    staff = _staff(old)
    assert staff, "the old staffing has no seed staff"
    assert old.stop() == 0, old.log()[-3000:]
    suite.started.pop("staffing")
    old.log_path.rename(old.log_path.with_name("staffing-old.log"))
    set_old_owner(suite.bootstrap, False)
    return organisation_events(suite.bootstrap), staff


def run_new_version(
    suite: Suite, staffing_database: str
) -> tuple[ServiceHandle, ServiceHandle, ServiceHandle]:
    """The upgrade: the new staffing on the old one's database, administration and a
    consumer (pharmacy) on fresh ones, started together."""
    staffing = start_service(
        "staffing",
        bootstrap=suite.bootstrap,
        database_url=staffing_database,
        data_dir=suite.data_dir,
        wait_ready=False,
    )
    suite.started["staffing"] = staffing
    running = suite.start("administration", "pharmacy")
    wait_until_ready(staffing, STUCK_START_S)
    return running["administration"], staffing, running["pharmacy"]


def _staff(staffing: ServiceHandle) -> set[str]:
    with staffing.client(Role.HR) as hr:
        response = hr.get("/staff", params={"limit": 500})
        response.raise_for_status()
        return ids(response.json())


def test_an_upgraded_suite_loses_no_facility_and_publishes_no_duplicate(
    suite: Suite, broker: TestBroker, make_database: Any, tmp_path: Path
) -> None:
    tree = old_tree(tmp_path / "old-version")
    check_old_imports(tree)
    staffing_database = make_database("staffing")
    before, staff = run_old_version(suite, tree, staffing_database)
    assert len(before["organisation.community"]) >= SEED_COMMUNITIES
    assert all(e.source == "/services/staffing" for t in TOPICS for e in before[t])
    published = set(registered(before))
    assert len(published) == SEED_FACILITIES + 1

    administration, staffing, pharmacy = run_new_version(suite, staffing_database)

    # Administration adopted the published organisation, the extra facility included ...
    assert ids(administration.get_json("/organisation/facilities")) == published
    # ... and announced none of it again (its start's publications would be pending first).
    wait_for(
        lambda: administration.metric("administration_outbox_pending") == 0,
        what="administration's outbox to be empty",
    )
    after = organisation_events(suite.bootstrap)
    assert {t: len(after[t]) for t in TOPICS} == {t: len(before[t]) for t in TOPICS}
    assert max(registered(after).values()) == 1

    # Every consumer has every facility; the upgraded staffing still has its staff.
    wait_for(
        lambda: ids(pharmacy.get_json("/directory/facilities")) == published,
        what="pharmacy's copy of the seed county and the extra facility",
    )
    assert _staff(staffing) == staff
    assert EXTRA["name"] in timetable(staffing)

    # The new owner registers a facility; it reaches every copy, announced once, by it.
    with administration.client(Role.COUNTY_ADMIN) as admin:
        created = admin.post("/organisation/facilities", json=LATER)
        assert created.status_code == 201, created.text
    wait_for(
        lambda: LATER["facility_id"] in ids(pharmacy.get_json("/directory/facilities")),
        what="pharmacy's copy of the facility administration registered",
    )
    wait_for(
        lambda: LATER["name"] in timetable(staffing),
        what="staffing's copy of the facility administration registered",
    )
    final = organisation_events(suite.bootstrap)
    assert max(registered(final).values()) == 1
    later = [e for e in final["organisation.facility"] if e.subject == LATER["facility_id"]]
    assert [e.source for e in later] == ["/services/administration"]
