"""The consultant's case-review pages: the agenda of a review with the recommendation form, the
registry worklist (safety first), and "My week" linking a case review to its agenda."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from care.store import Episode
from hub import views
from hub.store import Consultant
from tests.factories import Clock, Network, booking_in_store, sign_in
from tests.factories.care import (
    TRAIL,
    CareClinic,
    care_clinic,
    contact,
    enrol,
    hub_caller,
    measure,
    phq9,
)
from tests.http.coordinator_support import post_form
from tests.log_capture import log_lines_fixture, logged  # noqa: F401 (the fixture log_lines)


@dataclass(frozen=True)
class Review:
    """A case review that has begun, of a clinic with three flagged patients."""

    clinic: CareClinic
    consultant: Consultant
    booking_id: uuid.UUID
    safety: Episode
    slow: Episode
    newcomer: Episode
    steady: Episode

    @property
    def page(self) -> str:
        return f"/hub/case-reviews/{self.booking_id}"

    def recommend_path(self, episode: Episode) -> str:
        return f"{self.page}/patients/{episode.id}/recommendation"


async def _review(network: Network, conn: asyncpg.Connection, clock: Clock) -> Review:
    """A psychiatric consultant's case review with a clinic (begun 30 minutes ago) whose
    patients are: one not improving after 12 weeks, one new, one with PHQ-9 item 9 above 0, one
    only never reviewed, enrolled in an order other than the agenda's."""
    service = await network.service(
        kind="case_review", name="Case review", roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    clinic = await care_clinic(network, consultant=consultant)
    now, today = clock.now, clock.now.date()
    episodes = {}
    for name, began in (("Steady", 5), ("Slowly", 12), ("Newcomer", 1), ("Safety", 6)):
        patient = await network.patient(clinic.spoke, family_name=name)
        episodes[name] = await enrol(
            conn,
            clinic.spoke,
            patient.id,
            care_manager_id=clinic.care_manager.id,
            consultant_id=consultant.id,
            started_on=today - timedelta(weeks=began),
            now=now,
        )
    slow, safety = episodes["Slowly"], episodes["Safety"]
    await measure(conn, slow, "phq9", slow.started_on, now=now, items=phq9(20))
    await measure(conn, slow, "phq9", today - timedelta(days=3), now=now, items=phq9(18))
    await measure(conn, safety, "phq9", today - timedelta(days=2), now=now, items=phq9(12, item9=1))
    for episode in episodes.values():
        await contact(conn, episode, today - timedelta(days=1), now=now)
    patient = await network.patient(clinic.spoke, family_name="Booked")
    booking_id = await booking_in_store(
        conn,
        service_id=service.id,
        consultant_id=consultant.id,
        spoke_id=clinic.spoke.id,
        patient_id=patient.id,
        start=now - timedelta(minutes=30),
    )
    return Review(
        clinic, consultant, booking_id, safety, slow, episodes["Newcomer"], episodes["Steady"]
    )


async def _as_consultant(client: TestClient, network: Network, consultant: Consultant) -> None:
    email, password = await network.user("consultant", consultant_id=consultant.id)
    assert (await sign_in(client, email, password)).status == 303


def _agenda_names(html: str) -> list[str]:
    """The family names of the agenda's patients, in page order."""
    agenda = html.split('<ol class="agenda">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r"<h3>(\w+), ", agenda)


async def test_the_agenda_lists_the_flagged_patients_in_agenda_order_with_their_facts(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    response = await client.get(review.page)
    assert response.status == 200
    html = await response.text()
    assert _agenda_names(html) == ["Safety", "Slowly", "Newcomer", "Steady"]
    assert f"Case review: {review.clinic.spoke.name}" in html
    # The consultant's zone (Los Angeles): 15:00 UTC less 30 minutes is 06:30 there.
    assert "Monday 1 March 2027, 06:30\u201307:30" in html
    slow = html.split(f'id="e-{review.slow.id}"', 1)[1].split("</li>", 1)[0]
    assert "Not improving" in slow and "20 → 18" in slow and "(-10%)" in slow
    assert "<svg" in slow and "Never reviewed" in slow
    assert "Target: a PHQ-9 of 10 or less" in slow  # the trend's table and target beside it
    assert html.count('class="recommendation"') == 4
    # Each patient shown is a read of their episode, on the record under the consultant's name.
    read = await conn.fetch(
        "SELECT record_id FROM audit_log WHERE action = 'read' AND record_type = 'episode'"
        " AND actor LIKE 'user:%'"
    )
    shown = {str(e.id) for e in (review.safety, review.slow, review.newcomer, review.steady)}
    assert shown <= {r["record_id"] for r in read}


async def test_a_recommendation_is_recorded_signed_and_reaches_the_clinic_as_a_note(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    text = "Increase sertraline to 100 mg; repeat PHQ-9 in 4 weeks."
    response = await post_form(
        client,
        review.recommend_path(review.slow),
        {"choice": "adjust_medication", "text": text},
        page=review.page,
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"].endswith(f"#e-{review.slow.id}")
    html = await (await client.get(review.page)).text()
    assert "Recommended: Adjust medication" in html and "(signed note" in html
    assert html.count('class="recommendation"') == 3
    inbox = await client.get(
        "/api/v1/notes?acknowledged=false", headers=review.clinic.spoke.headers
    )
    assert inbox.status == 200
    found = await inbox.json()
    notes = found["notes"] if isinstance(found, dict) else found
    made = await conn.fetchrow(
        "SELECT id FROM recommendations WHERE booking_id = $1 AND episode_id = $2",
        review.booking_id,
        review.slow.id,
    )
    assert made is not None
    ours = [n for n in notes if n.get("recommendation_id") == str(made["id"])]
    assert len(ours) == 1 and text in str(ours[0])


async def test_a_refused_recommendation_shows_its_error_at_its_field_and_records_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    for body, field in (
        ({"text": "Keep going."}, "choice"),
        ({"choice": "sleep_on_it", "text": "Keep going."}, "choice"),
        ({"choice": "refer", "text": "  "}, "text"),
    ):
        response = await post_form(
            client, review.recommend_path(review.safety), body, page=review.page
        )
        assert response.status == 422, body
        html = await response.text()
        assert f'<p class="error" id="f-{field}-error">' in html, body
        assert f'href="#f-{field}"' in html
        assert 'value="Keep going."' not in html  # a textarea keeps what was typed inside it
        if field == "choice":
            assert ">Keep going.</textarea>" in html
    # A second recommendation for the same patient in the same review: 409, said at the form.
    first = {"choice": "no_change", "text": "Continue."}
    path = review.recommend_path(review.newcomer)
    assert (await post_form(client, path, first, page=review.page)).status == 303
    again = await post_form(client, path, {"choice": "refer", "text": "Refer."}, page=review.page)
    assert again.status == 409
    assert "amend its note" in await again.text()
    count = await conn.fetchval(
        "SELECT count(*) FROM recommendations WHERE booking_id = $1", review.booking_id
    )
    assert count == 1


async def test_another_consultant_gets_404_and_a_clinic_user_cannot_open_the_agenda(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    other = await network.consultant([])
    await _as_consultant(client, network, other)
    assert (await client.get(review.page)).status == 404
    refused = await post_form(
        client,
        review.recommend_path(review.slow),
        {"choice": "refer", "text": "Refer."},
        page="/hub",
    )
    assert refused.status == 404
    assert await conn.fetchval("SELECT count(*) FROM recommendations") == 0
    email, password = await network.user("care_manager", spoke_id=review.clinic.spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    assert (await client.get(review.page, allow_redirects=False)).status == 403


async def test_hub_staff_open_any_review_in_the_hub_zone(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    email, password = await network.user("hub_coordinator")
    assert (await sign_in(client, email, password)).status == 303
    html = await (await client.get(review.page)).text()
    assert _agenda_names(html) == ["Safety", "Slowly", "Newcomer", "Steady"]
    assert "Monday 1 March 2027, 09:30\u201310:30" in html  # New York


async def test_the_worklist_shows_the_consultants_patients_safety_first_and_apart(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    # A second clinic's patient of the same consultant, and another consultant's patient.
    second = await care_clinic(network, consultant=review.consultant)
    theirs = await care_clinic(network)
    for clinic, name in ((second, "Elsewhere"), (theirs, "Notmine")):
        patient = await network.patient(clinic.spoke, family_name=name)
        await enrol(
            conn,
            clinic.spoke,
            patient.id,
            care_manager_id=clinic.care_manager.id,
            consultant_id=clinic.consultant.id,
            started_on=date(2027, 2, 1),
            now=clock.now,
        )
    await _as_consultant(client, network, review.consultant)
    html = await (await client.get("/hub/registry")).text()
    safety = html.split('id="h-safety"', 1)[1].split("</section>", 1)[0]
    assert "1 patient answered PHQ-9 item 9 above 0" in safety
    assert re.findall(r'<th scope="row">(\w+), ', safety) == ["Safety"]
    rest = html.split('id="registry-rest"', 1)[1]
    assert re.findall(r'<th scope="row">(\w+), ', rest) == [
        "Slowly",
        "Elsewhere",
        "Newcomer",
        "Steady",
    ]
    assert "Notmine" not in html
    assert html.index('id="h-safety"') < html.index('id="registry-rest"')


async def test_hub_staff_see_every_consultants_patients_and_filter_by_clinic(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    await _review(network, conn, clock)
    theirs = await care_clinic(network)
    patient = await network.patient(theirs.spoke, family_name="Notmine")
    await enrol(
        conn,
        theirs.spoke,
        patient.id,
        care_manager_id=theirs.care_manager.id,
        consultant_id=theirs.consultant.id,
        started_on=date(2027, 2, 1),
        now=clock.now,
    )
    email, password = await network.user("hub_admin")
    assert (await sign_in(client, email, password)).status == 303
    everyone = await (await client.get("/hub/registry")).text()
    assert "Notmine" in everyone and "Safety" in everyone
    one = await (await client.get(f"/hub/registry?spoke_id={theirs.spoke.id}")).text()
    assert "Notmine" in one and "Safety" not in one and "Slowly" not in one
    bad = await client.get("/hub/registry?spoke_id=first")
    assert bad.status == 422


async def test_my_week_links_a_case_review_to_its_agenda(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    html = await (await client.get("/hub")).text()
    row = html.split(f'id="b-{review.booking_id}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/hub/case-reviews/{review.booking_id}"' in row
    assert "Agenda" in row


async def test_my_week_says_how_many_of_the_consultants_patients_have_a_safety_flag(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    html = await (await client.get("/hub")).text()
    panel = html.split('class="flag-panel"', 1)[1].split("</p>", 1)[0]
    assert "1 of your patients has" in panel and 'href="/hub/registry"' in panel
    # A later PHQ-9 with item 9 at 0 clears it, and the panel goes.
    await measure(conn, review.safety, "phq9", clock.now.date(), now=clock.now, items=phq9(6))
    assert 'class="flag-panel"' not in await (await client.get("/hub")).text()


async def test_a_patient_reviewed_off_the_agenda_is_still_shown_as_recommended(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    body = {"choice": "add_psychotherapy", "text": "Add weekly CBT."}
    made = await post_form(client, review.recommend_path(review.steady), body, page=review.page)
    assert made.status == 303
    html = await (await client.get(review.page)).text()
    assert _agenda_names(html) == ["Safety", "Slowly", "Newcomer"]  # never reviewed no more
    done = html.split("Recommended in this review", 1)[1]
    assert "Steady, " in done and "Recommended: Add psychotherapy" in done


async def test_a_review_not_yet_begun_refuses_a_recommendation_at_the_form(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    clock.now -= timedelta(hours=1)
    await _as_consultant(client, network, review.consultant)
    body = {"choice": "refer", "text": "Refer to addiction psychiatry."}
    refused = await post_form(client, review.recommend_path(review.slow), body, page=review.page)
    assert refused.status == 409
    html = await refused.text()
    assert "has not begun" in html and ">Refer to addiction psychiatry.</textarea>" in html
    assert await conn.fetchval("SELECT count(*) FROM recommendations") == 0


async def test_the_safety_count_for_my_week_counts_only_the_consultants_flagged_patients(
    network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await _review(network, conn, clock)
    theirs = await care_clinic(network)
    patient = await network.patient(theirs.spoke)
    flagged = await enrol(
        conn,
        theirs.spoke,
        patient.id,
        care_manager_id=theirs.care_manager.id,
        consultant_id=theirs.consultant.id,
        started_on=date(2027, 2, 1),
        now=clock.now,
    )
    await measure(conn, flagged, "phq9", date(2027, 2, 20), now=clock.now, items=phq9(3, item9=2))
    caller = hub_caller()
    today = clock.now.date()
    assert await views.safety_count(conn, caller, TRAIL, review.consultant.id, today) == 1
    assert await views.safety_count(conn, caller, TRAIL, theirs.consultant.id, today) == 1
    # A later PHQ-9 with item 9 at 0 clears it.
    await measure(conn, review.safety, "phq9", today, now=clock.now, items=phq9(6))
    assert await views.safety_count(conn, caller, TRAIL, review.consultant.id, today) == 0


async def test_no_patient_name_or_recommendation_text_is_logged(
    client: TestClient,
    network: Network,
    conn: asyncpg.Connection,
    clock: Clock,
    log_lines: io.StringIO,
) -> None:
    review = await _review(network, conn, clock)
    await _as_consultant(client, network, review.consultant)
    text = "Consider naltrexone XR given ongoing cravings."
    assert (await client.get(review.page)).status == 200
    assert (await client.get("/hub/registry")).status == 200
    body = {"choice": "adjust_medication", "text": text}
    made = await post_form(client, review.recommend_path(review.slow), body, page=review.page)
    assert made.status == 303
    lines = logged(log_lines)
    assert any(line.get("route") == "/hub/case-reviews/{booking_id}" for line in lines)
    everything = log_lines.getvalue()
    for secret in (text, "Slowly", "Safety", "Newcomer", "Steady"):
        assert secret not in everything
