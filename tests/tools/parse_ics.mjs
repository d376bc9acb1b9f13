// Parse an iCalendar feed from stdin with Mozilla's ical.js (the parser inside Thunderbird)
// and print its events as JSON. Each TZID is resolved only against the feed's own
// VTIMEZONE components, so a missing VTIMEZONE shows up as wrong instants.
import ICAL from "ical.js";

let text = "";
for await (const chunk of process.stdin) text += chunk;

const calendar = new ICAL.Component(ICAL.parse(text));
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtimezone));
}
const zoneOf = (prop) => prop.getParameter("tzid") ?? null;
const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    tzid: zoneOf(vevent.getFirstProperty("dtstart")),
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
    url: vevent.getFirstPropertyValue("url"),
  };
});
const props = Object.fromEntries(
  ["prodid", "version", "method", "x-wr-calname", "refresh-interval"].map((name) => [
    name,
    String(calendar.getFirstPropertyValue(name) ?? ""),
  ]),
);
const timezones = calendar.getAllSubcomponents("vtimezone").map((z) => z.getFirstPropertyValue("tzid"));
process.stdout.write(JSON.stringify({ props, timezones, events }));
