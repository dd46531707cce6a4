"""answerability.judge on a small shop's real passages (retrieved through the real pipeline, real
local embedder): what the content covers is answerable, what it does not is refused, whether on
the shop's subject or off topic, and the owner reads the strength in words."""

import pytest

from chatapp.core.db import session_scope
from chatapp.services.chat.compose import answerability
from chatapp.services.knowledge import sources
from chatapp.services.knowledge.embeddings import get_embedder
from chatapp.services.knowledge.retrieval import Passage, retrieve
from chatapp.workers import ingest as worker
from tests.utils.factories import make_tenant

RENTALS = (
    "Bike rentals\n\nWe rent hybrid bikes at £25 per day and electric bikes at £45 per day. "
    "Every rental includes a helmet, a lock and a puncture repair kit. We take a £200 deposit on "
    "a credit or debit card for each bike, released when the bike comes back undamaged."
)
SHOP = (
    "About the shop\n\nNorthgate Cycles sells road, gravel, hybrid and electric bikes from "
    "Ribble, Genesis and Orbea. Bikes on sale this month are marked with a red tag in the shop. "
    "We accept Visa, Mastercard and cash."
)
WORKSHOP = (
    "Workshop\n\nA standard service costs £75 and most services are ready within 3 working days. "
    "Puncture repairs cost £12 per wheel, including a new inner tube."
)


@pytest.fixture
def bike_shop_tenant(sqlite_url):
    with session_scope() as session:
        tenant = make_tenant(session, "judge")
        for title, text in (("Rentals", RENTALS), ("Shop", SHOP), ("Workshop", WORKSHOP)):
            sources.add_text(session, tenant.owner, tenant.bot.id, title=title, text=text)
    worker.run_until_idle()
    return tenant


def verdict(tenant, question):
    with session_scope() as session:
        found = retrieve(
            session, workspace_id=tenant.workspace.id, bot_id=tenant.bot.id, query=question
        )
    return found, answerability.judge(question, found.passages, embedder=get_embedder())


def test_a_question_the_content_answers_is_answerable(bike_shop_tenant):
    found, result = verdict(bike_shop_tenant, "How much is the deposit for a rental bike?")
    assert result.answerable and result.strength in {"strong", "weak"}
    assert answerability.passage_strength("How much is the deposit?", found.passages[0]) != "none"


def test_on_subject_questions_the_content_does_not_cover_are_refused(bike_shop_tenant):
    for question in ("Do you sell gift cards?", "Can I pay with Bitcoin?"):
        _found, result = verdict(bike_shop_tenant, question)
        assert not result.answerable, question
        assert result.strength == "none"


def test_off_topic_question_is_refused_with_no_answer_found(bike_shop_tenant):
    found, result = verdict(bike_shop_tenant, "What is the capital of France?")
    assert not result.answerable and result.strength == "none" and result.score < 0.4
    labels = {
        answerability.passage_strength("What is the capital of France?", p) for p in found.passages
    }
    assert labels == {"none"}
    assert answerability.STRENGTH_LABELS["none"] == "no answer found"


def test_no_passages_or_empty_question_is_never_answerable():
    assert answerability.judge("Do you deliver?", []) == answerability.Verdict(False, "none", 0.0)
    assert not answerability.judge("   ", []).answerable


def test_rare_words_weigh_more_than_the_bots_everyday_words():
    stats = answerability.TermStats(docs=10, df={"bike": 10, "gift": 0})
    assert stats.idf("gift") > 3 * stats.idf("bike")


def test_courtesy_words_do_not_count_against_a_question():
    """'Hello, when are you open?' is the same question as 'When are you open?'."""
    plain = answerability.question_terms("When are you open on Saturdays?").weights
    polite = answerability.question_terms("Hello! Please, when are you open on Saturdays?")
    assert polite.weights == plain


def test_a_number_inside_a_range_of_the_passage_is_covered():
    """ "I am 178 cm" against a size table's "174-181 cm": the number is not missing."""
    table = Passage(
        "9:0:abc", 9, "file", "| Rider height | Frame size |\n| 174-181 cm | 56 cm (M) |",
        "Bike size guide", "Road bikes", None, "", "", 0.5, 0.5, 1.0,
    )  # fmt: skip
    terms = answerability.question_terms("Which frame size for 178 cm?")
    other = answerability.question_terms("Which frame size for 150 cm?")
    assert answerability.coverage(terms, table) == 1.0
    assert answerability.coverage(other, table) < 1.0


def test_an_irregular_verb_form_is_covered_by_its_base_form():
    """ "What did you send?" is covered by a passage saying what is "sent"."""
    sent = Passage(
        "9:1:abc", 9, "file", "Parcels are sent within two days.", "Shipping", "Shipping",
        None, "", "", 0.5, 0.5, 1.0,
    )  # fmt: skip
    assert (
        answerability.coverage(answerability.question_terms("When is my parcel send?"), sent) == 1
    )
    assert answerability.question_terms("What was sent?").weights == {"send": 1.0}
