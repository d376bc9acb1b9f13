"""The collaborative care registry: episodes, measures, contacts, flags, case-review agendas
and recommendations, and the care manager's minutes ledger."""
