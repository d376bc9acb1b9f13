"""The SQL behind the registry's program outcomes: one statement gathering each episode's facts."""

from __future__ import annotations

from datetime import date

import asyncpg

from care.outcomes import EpisodeFacts, MoudRecord
from care.rules import Score

# Every episode begun by today, with its PHQ-9s and MOUD records oldest first, its last contact
# and whether a consultant ever reviewed it. Nothing here names a patient or an answer.
_FACTS = """
SELECT e.id, e.spoke_id, e.program, e.started_on, e.ended_on,
       coalesce(p.days, '{}') AS phq9_days, coalesce(p.scores, '{}') AS phq9_scores,
       coalesce(m.days, '{}') AS moud_days, coalesce(m.adherence, '{}') AS moud_adherence,
       (SELECT max(c.contact_on) FROM care_contacts c WHERE c.episode_id = e.id) AS last_contact_on,
       EXISTS (SELECT 1 FROM recommendations r WHERE r.episode_id = e.id) AS reviewed
FROM episodes e
LEFT JOIN LATERAL (
    SELECT array_agg(cm.measured_on ORDER BY cm.measured_on, cm.recorded_at) AS days,
           array_agg(cm.score ORDER BY cm.measured_on, cm.recorded_at) AS scores
    FROM care_measures cm
    WHERE cm.episode_id = e.id AND cm.kind = 'phq9'
) p ON true
LEFT JOIN LATERAL (
    SELECT array_agg(cm.measured_on ORDER BY cm.measured_on, cm.recorded_at) AS days,
           array_agg(cm.adherence ORDER BY cm.measured_on, cm.recorded_at) AS adherence
    FROM care_measures cm
    WHERE cm.episode_id = e.id AND cm.kind = 'moud' AND e.program = 'oud'
) m ON true
WHERE e.started_on <= $1
"""


async def episode_facts(conn: asyncpg.Connection, today: date) -> list[EpisodeFacts]:
    """The facts of every episode begun by `today`, of every clinic."""
    rows = await conn.fetch(_FACTS, today)
    return [
        EpisodeFacts(
            spoke_id=r["spoke_id"],
            program=r["program"],
            started_on=r["started_on"],
            ended_on=r["ended_on"],
            phq9=tuple(Score(d, s) for d, s in zip(r["phq9_days"], r["phq9_scores"], strict=True)),
            last_contact_on=r["last_contact_on"],
            reviewed=r["reviewed"],
            moud=tuple(
                MoudRecord(d, a) for d, a in zip(r["moud_days"], r["moud_adherence"], strict=True)
            ),
            episode_id=r["id"],
        )
        for r in rows
    ]
