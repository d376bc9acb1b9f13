"""The episode page: the patient, team, flags, trend and history; the PHQ-9 entered as nine
answers with the score computed by the server; refusals at their field, nothing written."""

from __future__ import annotations

from datetime import date

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.factories import care as cf
from tests.http.registry_pages.support import (
    CareDesk,
    care_desk,
    count,
    episode,
    error_at,
    phq9_form,
    post,
    summary,
)


async def test_the_episode_page_shows_the_patient_team_trend_and_the_phq9_questions(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    await cf.measure(conn, e, "phq9", date(2027, 1, 4), now=clock.now, items=cf.phq9(18))
    await cf.measure(conn, e, "phq9", date(2027, 2, 1), now=clock.now, items=cf.phq9(12))
    response = await client.get(f"/spoke/registry/{e.id}")
    assert response.status == 200
    html = await response.text()
    assert "Quimby" in html and desk.patient.mrn in html
    assert desk.manager.name in html and desk.consultant.name in html
    assert "Dr. Treating" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert "Target: 9" in html  # half the first PHQ-9 of 18, on the chart
    # The trend's numbers in a table beside it, oldest first.
    table = html.split('<table class="trend-data">', 1)[1].split("</table>", 1)[0]
    assert table.index("4 Jan 2027") < table.index("1 Feb 2027")
    assert "<td>18</td>" in table and "<td>12</td>" in table
    # The real PHQ-9: nine questions answered Not at all ... Nearly every day.
    assert "Little interest or pleasure in doing things" in html
    assert "Thoughts that you would be better off dead, or of hurting yourself" in html
    assert html.count('name="phq9.items.8"') == 4 and "Nearly every day" in html
    assert "Never reviewed by the consultant" in html  # a flag, in words


async def test_a_phq9_is_saved_with_its_score_computed_and_item_9_raises_the_safety_flag(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    response = await post(
        client,
        f"/spoke/registry/{e.id}/measures/phq9",
        phq9_form([2, 2, 1, 1, 1, 1, 1, 0, 1]),
        desk.csrf,
    )
    assert response.status == 303
    assert response.headers["Location"].startswith(f"/spoke/registry/{e.id}#measure-")
    stored = await conn.fetchrow(
        "SELECT items, score FROM care_measures WHERE episode_id = $1", e.id
    )
    assert list(stored["items"]) == [2, 2, 1, 1, 1, 1, 1, 0, 1] and stored["score"] == 10
    html = await (await client.get(f"/spoke/registry/{e.id}")).text()
    assert "PHQ-9 (depression) saved." in html
    assert '<h2 id="h-safety">Safety flag</h2>' in html
    assert "<strong>10</strong> of 27: Moderate" in html
    # The safety flag reads first among the episode's flags.
    flags = html.split("<dt>Flags</dt>", 1)[1].split("</dd>", 1)[0]
    assert flags.index("Safety") < flags.index("Never reviewed")


async def test_an_unanswered_question_is_named_at_its_place_and_nothing_is_written(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    form = phq9_form([1] * 9)
    del form["phq9.items.4"]
    response = await post(client, f"/spoke/registry/{e.id}/measures/phq9", form, desk.csrf)
    assert response.status == 422
    html = await response.text()
    assert error_at(html, "f-phq9-items-4") == "choose an answer"
    assert summary(html) == ["PHQ-9 question 5: choose an answer"]
    assert 'name="phq9.items.3" value="1" checked' in html  # what was answered is kept
    assert await count(conn, "care_measures") == 0


async def test_an_answer_out_of_range_and_a_day_in_the_future_are_refused_at_their_fields(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    form = phq9_form([1, 1, 1, 1, 1, 1, 1, 1, 4], on="2027-03-02")
    response = await post(client, f"/spoke/registry/{e.id}/measures/phq9", form, desk.csrf)
    assert response.status == 422
    html = await response.text()
    assert error_at(html, "f-phq9-items-8") == "must be 3 or less"
    assert await count(conn, "care_measures") == 0
    # A whole form, but dated tomorrow in the clinic: the domain refuses, at the date.
    form = phq9_form([1] * 9, on="2027-03-02")
    response = await post(client, f"/spoke/registry/{e.id}/measures/phq9", form, desk.csrf)
    assert response.status == 422
    assert error_at(await response.text(), "f-phq9-measured_on") == "is in the future"
    form = phq9_form([1] * 9, on="2027-01-03")  # the day before the episode began
    response = await post(client, f"/spoke/registry/{e.id}/measures/phq9", form, desk.csrf)
    assert error_at(await response.text(), "f-phq9-measured_on") == "is before the episode began"
    assert await count(conn, "care_measures") == 0


async def test_a_gad7_is_saved_and_shown_with_its_severity(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    form = {"gad7.measured_on": "2027-02-26", **{f"gad7.items.{i}": "2" for i in range(7)}}
    response = await post(client, f"/spoke/registry/{e.id}/measures/gad7", form, desk.csrf)
    assert response.status == 303
    html = await (await client.get(f"/spoke/registry/{e.id}")).text()
    assert "<strong>14</strong> of 21: Moderate" in html


async def test_medication_and_a_drug_screen_are_entered_for_an_oud_episode(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock, network: Network
) -> None:
    e = await episode(conn, desk, clock.now, program="oud")
    moud = {
        "moud.measured_on": "2027-03-01",
        "moud.adherence": "missed_doses",
        "moud.medication": "buprenorphine_naloxone",
        "moud.daily_dose_mg": "16",
    }
    assert (
        await post(client, f"/spoke/registry/{e.id}/measures/moud", moud, desk.csrf)
    ).status == 303
    screen = {
        "urine_drug_screen.measured_on": "2027-03-01",
        "urine_drug_screen.results.fentanyl": "positive",
        "urine_drug_screen.results.buprenorphine": "positive",
    }
    response = await post(
        client, f"/spoke/registry/{e.id}/measures/urine_drug_screen", screen, desk.csrf
    )
    assert response.status == 303
    html = await (await client.get(f"/spoke/registry/{e.id}")).text()
    assert "Missed or stopped medication" in html and "Unexpected substance" in html
    assert "Buprenorphine/naloxone, 16 mg a day" in html
    assert "Positive for Buprenorphine, Fentanyl" in html
    # A medication without saying how it is taken is refused at that question.
    del moud["moud.adherence"]
    response = await post(client, f"/spoke/registry/{e.id}/measures/moud", moud, desk.csrf)
    assert response.status == 422
    assert error_at(await response.text(), "f-moud-adherence") == "is required"
    assert await count(conn, "care_measures") == 2


async def test_a_collaborative_care_episode_offers_no_medication_form(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    html = await (await client.get(f"/spoke/registry/{e.id}")).text()
    assert "form-moud" not in html and "form-uds" not in html


async def test_another_clinics_episode_is_not_found_and_nothing_is_written_to_it(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock, network: Network
) -> None:
    other = await cf.care_clinic(network)
    theirs = await network.patient(other.spoke, family_name="Elsewhere")
    e = await cf.enrol(
        conn,
        other.spoke,
        theirs.id,
        care_manager_id=other.care_manager.id,
        consultant_id=other.consultant.id,
        started_on=date(2027, 1, 4),
        now=clock.now,
    )
    assert (await client.get(f"/spoke/registry/{e.id}")).status == 404
    assert (await client.get(f"/spoke/registry/{e.id}/contact")).status == 404
    response = await post(
        client, f"/spoke/registry/{e.id}/measures/phq9", phq9_form([1] * 9), desk.csrf
    )
    assert response.status == 404
    assert "Elsewhere" not in await response.text()
    contact = {
        "contact.contact_on": "2027-03-01",
        "contact.minutes": "15",
        "contact.kind": "phone",
        "contact.who": "Patient",
        "contact.counts": "true",
    }
    assert (
        await post(client, f"/spoke/registry/{e.id}/contacts", contact, desk.csrf)
    ).status == 404
    close = {
        "close.ended_on": "2027-03-01",
        "close.end_reason": "remission",
        "close.confirmed": "yes",
    }
    assert (await post(client, f"/spoke/registry/{e.id}/close", close, desk.csrf)).status == 404
    assert await count(conn, "care_measures") == 0 and await count(conn, "care_contacts") == 0
    assert await conn.fetchval("SELECT ended_on FROM episodes WHERE id = $1", e.id) is None
    assert (await client.get("/spoke/registry/not-a-uuid")).status == 404


async def test_closing_asks_for_confirmation_then_closes_and_the_forms_are_gone(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    close = {"close.ended_on": "2027-03-01", "close.end_reason": "remission"}
    response = await post(client, f"/spoke/registry/{e.id}/close", close, desk.csrf)
    assert response.status == 422
    assert "Confirm: tick the box to confirm closing the episode" in summary(await response.text())
    assert await conn.fetchval("SELECT ended_on FROM episodes WHERE id = $1", e.id) is None
    response = await post(
        client, f"/spoke/registry/{e.id}/close", {**close, "close.confirmed": "yes"}, desk.csrf
    )
    assert response.status == 303
    html = await (await client.get(f"/spoke/registry/{e.id}")).text()
    assert "Closed Mon 1 Mar 2027: Remission" in html
    assert "form-phq9" not in html and "form-close" not in html
    # A measure posted to a closed episode anyway is refused, and nothing is written.
    response = await post(
        client, f"/spoke/registry/{e.id}/measures/phq9", phq9_form([0] * 9), desk.csrf
    )
    assert response.status == 422
    assert await count(conn, "care_measures") == 0


async def test_a_scheduler_of_the_clinic_reads_and_enters_the_registry_too(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    desk = await care_desk(client, network)
    e = await episode(conn, desk, clock.now)
    await client.post("/signout", data={"csrf_token": desk.csrf})
    from tests.factories import page_csrf, sign_in

    email, password = await network.user("spoke_scheduler", spoke_id=desk.spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    csrf = await page_csrf(client, "/spoke/registry")
    assert "Quimby" in await (await client.get("/spoke/registry")).text()
    response = await post(client, f"/spoke/registry/{e.id}/measures/phq9", phq9_form([0] * 9), csrf)
    assert response.status == 303
    assert await count(conn, "care_measures") == 1
