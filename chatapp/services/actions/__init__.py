"""Actions a bot can run: collect a lead, hand over to a person, call an HTTP API, show a link.

`templates` validates each kind's config, `store` keeps them per bot, `rules` picks them offline,
`tools` offers them to the model, `runner` runs one and `runs` logs every run; `in_chat` is the
chat pipeline's entry point (docs/LIVE_AND_ACTIONS.md).
"""
