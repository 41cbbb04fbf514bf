from hypothesis import given
from hypothesis import strategies as st

from schemas.uscc import ALPHABET, check_character, is_valid, problem

body = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


def test_known_valid_code() -> None:
    assert is_valid("91350100M000100Y43")


@given(body)
def test_generated_codes_validate(first17: str) -> None:
    assert is_valid(first17 + check_character(first17))


@given(body, st.sampled_from(ALPHABET))
def test_a_wrong_check_character_is_named(first17: str, wrong: str) -> None:
    right = check_character(first17)
    if wrong != right:
        assert problem(first17 + wrong) == (
            f"'{first17 + wrong}' has check character {wrong}, expected {right}"
        )


def test_length_and_alphabet_problems_are_explained() -> None:
    assert problem("123") == "a USCC has 18 characters, '123' has 3"
    assert "never uses: IO" in (problem("91350100M000100YIO") or "")
    assert problem(42) == "a USCC is a string, got int"
