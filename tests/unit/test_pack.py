"""The knowledge pack: rendering from facts, validation, adding an article by dropping a file."""

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.bootstrap import build_knowledge
from bot.config import Settings
from bot.context import Knowledge
from bot.domain.facts import with_derived
from knowledge.pack import PACKS_DIR, PackError, load_pack, read_facts, render
from tests.conftest import fixed_clock


def test_every_article_renders_without_placeholders(knowledge: Knowledge) -> None:
    for article in knowledge.pack.articles:
        assert "{{" not in article.body and "}}" not in article.body, article.id
        assert len(article.questions) >= 5, f"{article.id} needs more example questions"


def test_the_letters_numbers_come_from_the_facts(knowledge: Knowledge) -> None:
    body = {a.id: a.body for a in knowledge.pack.articles}
    assert "123" in body["credenciales"]
    assert "01" in body["clave-facturador"] and "Agentes de Venta" in body["clave-facturador"]
    assert "USD 25.00" in body["costo-soporte"] and "28.75" in body["costo-soporte"]
    assert "día 25" in body["facturacion-mensual"] and "día 5" in body["facturacion-mensual"]


def test_unknown_fact_is_an_error() -> None:
    with pytest.raises(PackError, match="unknown fact"):
        render("cuesta {{ support.precio }}", {"support": {"hourly_rate": "25.00"}})


def test_group_of_facts_is_not_a_value() -> None:
    with pytest.raises(PackError, match="group of facts"):
        render("{{ support }}", {"support": {"hourly_rate": "25.00"}})


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(PACKS_DIR / "perseo", target)
    return target


def _knowledge(pack_dir: Path) -> Knowledge:
    return build_knowledge(Settings(_env_file=None, knowledge_pack=str(pack_dir)), fixed_clock)  # type: ignore[call-arg]


def test_dropping_a_file_adds_an_article(pack_copy: Path) -> None:
    (pack_copy / "articles" / "horario-atencion.md").write_text(
        "---\nid: horario-atencion\ntitle: Horario de atención\nquestions:\n"
        "  - a que hora atienden\n  - horario de oficina\n  - cuando estan abiertos\n---\n"
        "Atendemos de lunes a viernes de 08:30 a 17:30.\n",
        encoding="utf-8",
    )
    results = _knowledge(pack_copy).retriever.search("en que horario atienden las oficinas")
    assert results.best is not None and results.best.target == "horario-atencion"


def test_a_price_change_is_one_edit(pack_copy: Path) -> None:
    facts = yaml.safe_load((pack_copy / "facts.yaml").read_text(encoding="utf-8"))
    facts["support"]["hourly_rate"] = "30.00"
    (pack_copy / "facts.yaml").write_text(yaml.safe_dump(facts, allow_unicode=True), encoding="utf-8")
    body = _knowledge(pack_copy).pack.article("costo-soporte").body
    assert "USD 30.00" in body and "USD 34.50" in body  # 30.00 + 15% IVA


def test_malformed_article_names_the_file(pack_copy: Path) -> None:
    (pack_copy / "articles" / "roto.md").write_text("sin front matter", encoding="utf-8")
    with pytest.raises(PackError, match=r"roto\.md"):
        load_pack(pack_copy, with_derived(read_facts(pack_copy), dt.date(2026, 11, 28)))


def test_duplicate_ids_are_refused(pack_copy: Path) -> None:
    source = (pack_copy / "articles" / "tutoriales.md").read_text(encoding="utf-8")
    (pack_copy / "articles" / "zz-copia.md").write_text(source, encoding="utf-8")
    with pytest.raises(PackError, match="used twice"):
        _knowledge(pack_copy)


def test_articles_are_spanish_and_cover_the_letter(knowledge: Knowledge) -> None:
    text = " ".join(a.body for a in knowledge.pack.articles).lower()
    for needle in [
        "ruc",
        "cédula",
        "p12",
        "token",
        "zoom",
        "tutoriales",
        "agentes de venta",
        "depósito o transferencia",
        "distribuidor",
        "proporcional",
        "correo",
        "fracción",
    ]:
        assert needle in text, needle
    assert re.search(r"al menos 1 hora", text)


def test_today_matters_for_iva(pack_copy: Path) -> None:
    def old_clock() -> dt.datetime:
        return dt.datetime(2024, 1, 10, 12, tzinfo=dt.UTC)

    settings = Settings(_env_file=None, knowledge_pack=str(pack_copy))  # type: ignore[call-arg]
    body = build_knowledge(settings, old_clock).pack.article("costo-soporte").body
    assert "12 %" in body and "28.00" in body
