import pytest
from hostdesk_query.domain.language import Language, language_of
from hostdesk_query.domain.search import NothingToSearch, SearchKind, Words, search_of


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("The VPS is down", "It stopped answering after the reboot.", Language.EN),
        ("Mon site ne répond plus", "Bonjour, depuis ce matin le serveur est injoignable. Merci", Language.FR),
        ("Facture", "J'ai été facturé deux fois pour l'hébergement.", Language.FR),
        ("DNS", "", Language.EN),  # nothing telling: English
        ("Problème SSL", "The certificate expired yesterday, please renew it.", Language.EN),
    ],
)
def test_a_tickets_language_is_told_from_its_subject_and_first_post(
    subject: str, body: str, language: Language
) -> None:
    assert language_of(subject, body) is language


@pytest.mark.parametrize(
    ("text", "kind", "number", "words"),
    [
        ("#482913", SearchKind.NUMBER, 482913, None),
        (" 482913 ", SearchKind.NUMBER, 482913, "482913"),
        ("jo@example.net", SearchKind.EMAIL, None, None),
        ("kernel upgr", SearchKind.WORDS, None, "kernel & upgr:*"),
        ("kernel upgrade ", SearchKind.WORDS, None, "kernel & upgrade"),
        ("it's <b>down</b> & | !", SearchKind.WORDS, None, "it & s & b & down & b:*"),
        ("Hébergement", SearchKind.WORDS, None, "hébergement:*"),
    ],
)
def test_a_search_is_read_as_a_number_an_address_or_words_that_cannot_change_the_querys_syntax(
    text: str, kind: SearchKind, number: int | None, words: str | None
) -> None:
    search = search_of(text)

    assert (search.kind, search.number) == (kind, number)
    assert (None if search.words is None else search.words.tsquery()) == words


def test_the_requesting_sides_words_are_limited_to_subjects_and_public_posts() -> None:
    assert Words(("backup", "host"), prefix=True).tsquery("AB") == "backup:AB & host:*AB"


@pytest.mark.parametrize("text", ["", "   ", "!?", "— … —"])
def test_a_text_of_no_word_is_nothing_to_search(text: str) -> None:
    with pytest.raises(NothingToSearch):
        search_of(text)


def test_the_words_rule_without_stemming_folds_accents_and_takes_the_last_word_as_a_start() -> None:
    assert Words(("hebergement", "fact"), prefix=True).found_in(["Hébergement", "facturé deux fois"])
    assert not Words(("hebergement", "fact"), prefix=False).found_in(["Hébergement", "facturé deux fois"])
