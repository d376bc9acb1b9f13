"""The printed table and the targets/checks verdicts of a run's results."""

from __future__ import annotations

from typing import Any

from bench.config import TARGETS

Row = tuple[str, str, str, str]  # measure, value, target, met


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _cpu(run: dict[str, Any]) -> str:
    """CPU per request, all roles, then the server's and PostgreSQL's parts."""
    cost = run["cpu_ms_per_request"]
    if not cost:
        return "n/a"
    parts = "; ".join(f"{role} {cost[role]:.2f}" for role in ("server", "postgres") if role in cost)
    return f"{sum(cost.values()):.2f} ms ({parts})"


def _target_row(key: str, value: float, shown: str) -> tuple[Row, dict[str, Any]]:
    target = TARGETS[key]
    met = target.met(value)
    row = (target.label, shown, target.text, "yes" if met else "NO")
    return row, {
        "key": key,
        "measure": target.label,
        "value": value,
        "target": target.text,
        "met": met,
    }


def _check(label: str, shown: str, goal: str, ok: bool) -> tuple[Row, dict[str, Any]]:
    return (label, shown, goal, "yes" if ok else "NO"), {
        "measure": label,
        "value": shown,
        "target": goal,
        "met": ok,
    }


def verdicts(r: dict[str, Any]) -> tuple[list[Row], list[dict[str, Any]], list[dict[str, Any]]]:
    """The table rows, the target verdicts (timing) and the check verdicts (correctness) of
    the sections that ran (all, or the one `--only` chose)."""
    rows: list[Row] = []
    targets: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    if "slot_search" in r:
        rows += _search_rows(r, targets, checks)
    if "booking_throughput" in r:
        rows += _booking_sections(r, targets, checks)
    if "registry" in r:
        rows += _registry_rows(r["registry"], targets, checks)
    return rows, targets, checks


def _search_rows(
    r: dict[str, Any], targets: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> list[Row]:
    """Sections 1 and 1b: the JSON slot search's windows, and the FHIR Slot search."""
    rows: list[Row] = []
    search = r["slot_search"]
    for days in (7, 28):
        lat = search[f"{days}_days"]["latency"]
        slots = search[f"{days}_days"]["slots_per_answer"]["mean"]
        rows.append(
            (f"slot search, {days} days, p50 ({slots:,} slots)", _ms(lat["p50_ms"]), "", "")
        )
        row, verdict = _target_row(f"search_{days}_p99_ms", lat["p99_ms"], _ms(lat["p99_ms"]))
        rows.append(row)
        targets.append(verdict)
    if "fhir_slot_search" in r:
        rows += _fhir_search_rows(r["fhir_slot_search"], checks)
    return rows


def _booking_sections(
    r: dict[str, Any], targets: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> list[Row]:
    """Sections 2 to 7: booking, contention, feeds, memory, series, groups, scale-out."""
    rows: list[Row] = []

    bt = r["booking_throughput"]
    tele, base = bt["telehub"], bt["baseline"]
    clients = tele["concurrency"]
    rows.append(
        (f"telehub bookings/s ({clients} clients)", f"{tele['bookings_per_s']:,.0f}", "", "")
    )
    rows.append(("telehub booking p99", _ms(tele["latency"]["p99_ms"]), "", ""))
    rows.append(("baseline 1-INSERT requests/s", f"{base['requests_per_s']:,.0f}", "", ""))
    rows.append(("baseline p99", _ms(base["latency"]["p99_ms"]), "", ""))
    row, verdict = _target_row("booking_ratio", bt["ratio"], f"{bt['ratio']:.2f}")
    rows.append(row)
    targets.append(verdict)
    rows.append(("telehub CPU per booking (all roles)", _cpu(tele), "", ""))
    rows.append(("baseline CPU per request (all roles)", _cpu(base), "", ""))
    if bt["cpu_cost_ratio"] is not None:
        rows.append(("CPU-cost ratio (baseline ÷ telehub)", f"{bt['cpu_cost_ratio']:.2f}", "", ""))
    integrity = r["integrity"]
    row, verdict = _check(
        "overlapping active bookings (SQL)",
        str(integrity["overlapping_pairs_with_buffers"]),
        "0",
        integrity["overlapping_pairs_with_buffers"] == 0,
    )
    rows.append(row)
    checks.append(verdict)
    row, verdict = _check(
        "booking rows = 201 answers",
        f"{integrity['bookings_created_via_api']:,} = {integrity['answers_201']:,}",
        "equal",
        integrity["bookings_created_via_api"] == integrity["answers_201"],
    )
    rows.append(row)
    checks.append(verdict)

    c = r["contended"]
    row, verdict = _check(
        f"contended: {c['clients']} clients, {c['slots']} slots, x{c['rounds']}",
        f"{c['successes']} won",
        f"exactly {c['expected_successes']}",
        c["exact"],
    )
    rows.append(row)
    checks.append(verdict)
    rows.append(("contended booking p99", _ms(c["latency"]["p99_ms"]), "", ""))
    if "feeds" not in r:  # `--only booking`: sections 2 and 3 alone
        return rows

    f = r["feeds"]
    events = f"{f['events']:,} events"
    rows.append((f"feed cold render ({events}), p50", _ms(f["cold_render"]["p50_ms"]), "", ""))
    rows.append(
        ("feed re-render after one change, p50", _ms(f["after_one_change"]["p50_ms"]), "", "")
    )
    rows.append(("feed 304 Not Modified, p50", _ms(f["not_modified_304"]["p50_ms"]), "", ""))
    every = f["every_feed_once"]
    rows.append(
        (
            f"every feed once ({every['feeds']} feeds, {every['events']:,} events), p50",
            _ms(every["render"]["p50_ms"]),
            "",
            "",
        )
    )

    for name, seen in r["server_memory_mb"].items():
        shown = " → ".join(f"{v:,.0f}" for v in seen.values() if v is not None)
        rows.append((f"{name} RSS MiB ({' → '.join(seen)})", shown, "", ""))

    rows += _series_rows(r["series"], checks)
    rows += _group_rows(r["groups"], checks)

    s = r["scale_out"]
    rows.append(
        ("scale-out: 1 process, bookings/s", f"{s['one_process']['bookings_per_s']:,.0f}", "", "")
    )
    rows.append(
        (
            "scale-out: 2 processes, bookings/s",
            f"{s['two_processes']['bookings_per_s']:,.0f}",
            "",
            "",
        )
    )
    rows.append(("scale-out: speedup", f"{s['speedup']:.2f}x", "", ""))
    return rows


def _registry_rows(
    r: dict[str, Any], targets: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> list[Row]:
    """The caseload of a clinic with 500 open episodes: p50, p99 against the target, and
    whether every answer listed exactly the clinic's open episodes."""
    lat, n = r["latency"], r["episodes"]["open_episodes"]
    label = f"registry caseload ({n:,} episodes x {r['measures_per_episode']} measures)"
    rows: list[Row] = []
    if lat.get("count"):
        rows.append((f"{label}, p50", _ms(lat["p50_ms"]), "", ""))
        row, verdict = _target_row("registry_p99_ms", lat["p99_ms"], _ms(lat["p99_ms"]))
        rows.append(row)
        targets.append(verdict)
    inner = r.get("domain_function_latency", {})
    if inner.get("count"):
        rows.append(
            ("  of which the domain function (SQL + audit), p50", _ms(inner["p50_ms"]), "", "")
        )
    exact, sent = r["answers_listing_exactly_the_open_episodes"], r["answers"]
    row, verdict = _check(
        "registry: answers listing exactly the open episodes",
        f"{exact:,} of {sent:,}",
        "all",
        exact == sent,
    )
    rows.append(row)
    checks.append(verdict)
    return rows


def _series_rows(r: dict[str, Any], checks: list[dict[str, Any]]) -> list[Row]:
    """A series of 12 weekly sessions next to one single booking: p50 and p99 of each."""
    n = r["sessions_per_series"]
    rows: list[Row] = []
    for key, label in (("series", f"series of {n} weekly sessions"), ("single", "single booking")):
        lat = r[key]["latency"]
        rows.append((f"{label} (one at a time), p50", _ms(lat["p50_ms"]), "", ""))
        rows.append((f"{label} (one at a time), p99", _ms(lat["p99_ms"]), "", ""))
    made = r["series"]["statuses"].get("201", 0)
    booked = r["booked"]
    row, verdict = _check(
        f"series: sessions booked = {n} x 201 answers",
        f"{booked['in_series']:,} = {n} x {made:,}",
        "equal",
        booked["in_series"] == n * made
        and booked["series"] == made
        and r["overlaps"]["with_buffers"] == 0,
    )
    rows.append(row)
    checks.append(verdict)
    return rows


def _group_rows(r: dict[str, Any], checks: list[dict[str, Any]]) -> list[Row]:
    """Enrolling in a group of 12 weekly occurrences next to one single booking: throughput
    under the same closed loop, p50 and p99 of each."""
    n, enrol, single = r["occurrences_per_group"], r["enrol"], r["single"]
    clients = enrol["concurrency"]
    rows: list[Row] = [
        (
            f"enrol in a group ({n} weekly occurrences), enrolments/s ({clients} clients)",
            f"{enrol['enrolments_per_s']:,.0f}",
            "",
            "",
        ),
        (
            f"single booking, bookings/s ({single['concurrency']} clients, section 2)",
            f"{single['bookings_per_s']:,.0f}",
            "",
            "",
        ),
    ]
    for label, lat in (
        ("enrol in a group", enrol["latency"]),
        ("single booking", single["latency"]),
    ):
        if lat.get("count"):
            rows.append((f"{label}, p50", _ms(lat["p50_ms"]), "", ""))
            rows.append((f"{label}, p99", _ms(lat["p99_ms"]), "", ""))
    made = r["answers"].get("201", 0)
    stored = r["stored"]
    row, verdict = _check(
        f"group seats: seats stored = {n} x 201 answers, none over capacity",
        f"{stored['seats']:,} = {n} x {made:,}",
        "equal",
        stored["seats"] == n * made
        and stored["enrolments"] == made
        and stored["over_capacity"] == 0,
    )
    rows.append(row)
    checks.append(verdict)
    return rows


def _fhir_search_rows(fhir: dict[str, Any], checks: list[dict[str, Any]]) -> list[Row]:
    """Section 1b: FHIR Slot search (every page), its ratio to the JSON search, same slots."""
    lat, ratio, days = fhir["latency"], fhir["ratio_to_json"], fhir["days"]
    slots, pages = fhir["slots_per_search"]["mean"], fhir["pages_per_search"]["mean"]
    rows: list[Row] = [
        (
            f"FHIR Slot search, {days} days, p50 ({slots:,} slots, {pages} pages)",
            _ms(lat["p50_ms"]),
            "",
            "",
        ),
        (f"FHIR Slot search, {days} days, p99", _ms(lat["p99_ms"]), "", ""),
        (
            "FHIR ÷ JSON slot search, p50 / p99",
            f"{ratio['p50']:.2f} / {ratio['p99']:.2f}",
            "",
            "",
        ),
    ]
    row, verdict = _check(
        "FHIR Slot search = JSON slot search (windows)",
        f"{fhir['windows_matching_json']} of {fhir['windows_checked']}",
        "all, no duplicate",
        fhir["windows_matching_json"] == fhir["windows_checked"] and fhir["duplicate_slots"] == 0,
    )
    rows.append(row)
    checks.append(verdict)
    return rows


def _search_noise(r: dict[str, Any]) -> list[float]:
    """Other processes' most cores during the searches' timed chunks."""
    searches = [float(s["other_cores_max"]) for s in r["slot_search"].values()]
    if "fhir_slot_search" in r:
        searches.append(float(r["fhir_slot_search"]["other_cores_max"]))
    return searches


def noise(r: dict[str, Any]) -> float:
    """The most CPU (in cores) other processes took during a window the figures come from."""
    if "booking_throughput" not in r:  # --only: no throughput window was measured
        if "slot_search" in r:
            return float(max(_search_noise(r)))
        return float(r.get("registry", {}).get("machine_busy_before") or 0.0)
    runs = [
        *(r["booking_throughput"][k] for k in ("telehub", "baseline")),
        *(r["scale_out"][k] for k in ("one_process", "two_processes") if "scale_out" in r),
    ]
    searches = _search_noise(r) if "slot_search" in r else []
    return float(max([*(run["cores_used"].get("other", 0.0) for run in runs), *searches]))


def table(rows: list[Row], machine: dict[str, Any], other_cores: float) -> str:
    """A plain-text table, with the machine above it and the noise below."""
    head = ("measure", "value", "target", "met")
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(4)]
    line = "  ".join("-" * w for w in widths)

    def fmt(x: Row) -> str:
        return "  ".join(
            (x[i].rjust(widths[i]) if i == 1 else x[i].ljust(widths[i])) for i in range(4)
        ).rstrip()

    about = (
        f"{machine['cpu_model']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"Python {machine['python']}, PostgreSQL {machine['postgresql']}"
    )
    note = (
        f"Other processes took up to {other_cores:.2f} of {machine['cores']} cores during the "
        "windows shown (throughput: best of interleaved rounds; search: quiet chunks)."
    )
    return "\n".join([about, "", fmt(head), line, *(fmt(x) for x in rows), "", note])
