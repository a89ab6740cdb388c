from knowledge.text import fold, has_letters_or_digits, strip_control, words


def test_fold_removes_accents_punctuation_and_letter_runs() -> None:
    assert fold("¿Cuál es la CLAVEEE del facturador??") == "cual es la clave del facturador"
    assert fold("Año, cédula y ñandú") == "ano cedula y nandu"


def test_fold_keeps_real_double_letters_for_the_corrector() -> None:
    assert words("llave carro leer") == ["llave", "carro", "leer"]


def test_strip_control_keeps_newlines_and_tabs() -> None:
    assert strip_control("a\x00b\x07c\nd\te\x1b") == "abc\nd\te"


def test_has_letters_or_digits() -> None:
    assert not has_letters_or_digits("😀🙏 !!")
    assert has_letters_or_digits("ok 👍")
    assert has_letters_or_digits("123")
