"""The outcomes' facts come from the database as the definitions need them: each episode's
PHQ-9s oldest first, MOUD records of OUD episodes only, the last contact, whether a consultant
ever reviewed it, and closed episodes too; the clinic's and the network's shares add up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

from care import outcomes_store, registry, review
from care.outcomes import Share, summarise
from care.rules import Score
from care.store import Episode
from tests.factories import Network, booking_in_store
from tests.factories.care import (
    BASE_URL,
    TRAIL,
    CareClinic,
    care_clinic,
    clinic_caller,
    contact,
    enrol,
    gad7,
    hub_caller,
    measure,
    phq9,
)

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)


async def test_each_clinics_outcomes_are_read_from_its_episodes(
    conn: asyncpg.Connection, network: Network
) -> None:
    service = await network.service(kind="case_review", roles=["psychiatric_consultant"])
    consultant = await network.consultant([service])
    clinic = await care_clinic(network, consultant=consultant)
    other = await care_clinic(network, consultant=consultant)

    async def episode(program: str, started_on: date, spoke: CareClinic = clinic) -> Episode:
        patient = await network.patient(spoke.spoke)
        return await enrol(
            conn,
            spoke.spoke,
            patient.id,
            care_manager_id=spoke.care_manager.id,
            consultant_id=consultant.id,
            started_on=started_on,
            now=NOW,
            program=program,
        )

    began = TODAY - timedelta(weeks=12)
    # A: a response (20 to 9) but no remission; GAD-7 is not the outcome's measure.
    a = await episode("collaborative_care", began)
    await measure(conn, a, "phq9", began + timedelta(weeks=11), now=NOW, items=phq9(9))
    await measure(conn, a, "phq9", began, now=NOW, items=phq9(20))  # entered late: still first
    await measure(conn, a, "gad7", began + timedelta(weeks=11), now=NOW, items=gad7(1))
    await contact(conn, a, TODAY - timedelta(weeks=5), now=NOW)
    # B: remission (20 to 4), contacted yesterday, reviewed by the consultant.
    b = await episode("collaborative_care", began)
    await measure(conn, b, "phq9", began, now=NOW, items=phq9(20))
    await measure(conn, b, "phq9", began + timedelta(weeks=10), now=NOW, items=phq9(4))
    await contact(conn, b, TODAY - timedelta(days=1), now=NOW)
    patient = await network.patient(clinic.spoke)
    booking = await booking_in_store(
        conn,
        service_id=service.id,
        consultant_id=consultant.id,
        spoke_id=clinic.spoke.id,
        patient_id=patient.id,
        start=NOW - timedelta(hours=1),
    )
    await review.recommend(
        conn,
        hub_caller(),
        TRAIL,
        booking,
        b.id,
        choice="no_change",
        text="Continue.",
        base_url=BASE_URL,
        now=NOW,
    )
    # C: OUD for 151 days, stopped on day 100: retained at 90 days, not yet 180 days old.
    c = await episode("oud", TODAY - timedelta(days=151))
    for day, adherence in ((30, "taking_as_prescribed"), (100, "stopped")):
        await measure(
            conn,
            c,
            "moud",
            c.started_on + timedelta(days=day),
            now=NOW,
            adherence=adherence,
            medication="buprenorphine_naloxone",
            daily_dose_mg=16,
        )
    # D: OUD for 212 days, taking its medication, closed on day 120: retained at 90, not 180.
    d = await episode("oud", TODAY - timedelta(days=212))
    await measure(
        conn,
        d,
        "moud",
        d.started_on + timedelta(days=10),
        now=NOW,
        adherence="taking_as_prescribed",
        medication="methadone",
        daily_dose_mg=80,
    )
    await registry.close(
        conn,
        clinic_caller(clinic.spoke),
        TRAIL,
        d.id,
        ended_on=d.started_on + timedelta(days=120),
        end_reason="transferred",
        now=NOW,
    )
    # The other clinic: one PHQ-9 in week 9 only, so no outcome to read.
    e = await episode("collaborative_care", began, spoke=other)
    await measure(conn, e, "phq9", began + timedelta(weeks=9), now=NOW, items=phq9(3))

    facts = {f.episode_id: f for f in await outcomes_store.episode_facts(conn, TODAY)}
    assert set(facts) == {a.id, b.id, c.id, d.id, e.id}
    read_a = facts[a.id]
    assert list(read_a.phq9) == [Score(began, 20), Score(began + timedelta(weeks=11), 9)]
    assert read_a.moud == () and not read_a.reviewed
    assert read_a.last_contact_on == TODAY - timedelta(weeks=5)
    assert facts[b.id].reviewed and facts[d.id].ended_on is not None
    assert [m.adherence for m in facts[c.id].moud] == ["taking_as_prescribed", "stopped"]

    shown = summarise(facts.values(), since=TODAY - timedelta(weeks=8), until=TODAY, today=TODAY)
    mine = shown.by_spoke[clinic.spoke.id]
    assert (mine.response, mine.remission) == (Share(2, 2), Share(1, 2))
    assert (mine.contacted, mine.reviewed) == (Share(1, 3), Share(1, 3))
    assert (mine.retention_90, mine.retention_180) == (Share(2, 2), Share(0, 1))
    theirs = shown.by_spoke[other.spoke.id]
    assert (theirs.response, theirs.contacted) == (Share(0, 0), Share(0, 1))
    assert shown.total.contacted == Share(1, 4)
