"""The Actions editor's form mapping (chatapp/state/actions_form.py): a stored config shown in
the form and saved back unchanged; lists, required marks and bad JSON."""

import pytest

from chatapp.services.actions import templates
from chatapp.services.actions.common import ActionInvalid
from chatapp.state.actions_form import config_of, draft_of, from_form


@pytest.mark.parametrize("kind", templates.KINDS)
def test_a_template_round_trips_through_the_form(kind):
    stored = templates.clean(kind, {})
    draft = draft_of("Name", stored)
    form = {k: v for k, v in vars(draft).items() if not isinstance(v, bool) or v}
    form.update({k: "on" for k, v in vars(draft).items() if v is True})
    assert templates.clean(kind, config_of(kind, from_form(form), stored)) == stored


def test_lists_required_marks_and_bad_json():
    stored = templates.clean("collect_lead", {})
    form = {**vars(draft_of("Lead", stored)), "lead_fields": "email*, message"}
    draft = from_form({**form, "keywords": "price, quote ,", "on_fallback": None})
    config = templates.clean("collect_lead", config_of("collect_lead", draft, stored))
    assert [(f["name"], f["required"]) for f in config["fields"]] == [
        ("email", True),
        ("message", False),
    ]
    assert config["rules"] == {"keywords": ["price", "quote"], "phrases": [], "on_fallback": False}
    with pytest.raises(ActionInvalid) as info:
        config_of("http", from_form({"parameters": "{not json"}), templates.clean("http", {}))
    assert info.value.errors["parameters"].startswith("Not valid JSON")
