"""Masked e-mail addresses shown when a verification code is sent, and decoys for unknown RUCs.

A customer sees where the code went (`m***@andina.ec`). Someone typing a RUC that is not a
customer must see an answer of exactly the same kind, or the mask tells customers' RUCs from
strangers': so an unknown RUC gets a decoy drawn from the same shapes real addresses have (an
initial, then a company-looking domain or a free-mail one, in roughly the shares Ecuadorian
SMEs use). The decoy is a pure function of a keyed digest of the RUC (the caller computes an
HMAC with the server's secret), so it is stable for a RUC, as a real address is, and nobody
without the key can tell it from a real one by recomputing it.
"""

from __future__ import annotations

from collections.abc import Sequence

# How often each initial starts a company contact's address: first names (María, José, Carlos,
# Ana, Luis...) and role mailboxes (info@, ventas@, contabilidad@, facturacion@, gerencia@).
INITIALS: tuple[tuple[str, int], ...] = (
    ("a", 9), ("b", 2), ("c", 10), ("d", 5), ("e", 5), ("f", 5), ("g", 6), ("h", 2), ("i", 4),
    ("j", 8), ("k", 1), ("l", 7), ("m", 10), ("n", 3), ("o", 2), ("p", 5), ("r", 6), ("s", 5),
    ("t", 3), ("v", 5), ("w", 1), ("x", 1), ("y", 1), ("z", 1),
)  # fmt: skip
# About two in five small companies in Ecuador give a free-mail address.
FREE_MAIL_PERCENT = 40
FREE_MAIL: tuple[tuple[str, int], ...] = (
    ("gmail.com", 56), ("hotmail.com", 22), ("outlook.com", 8), ("yahoo.com", 5), ("hotmail.es", 3),
    ("live.com", 3), ("outlook.es", 1), ("icloud.com", 1), ("yahoo.es", 1),
)  # fmt: skip
PREFIXES: tuple[tuple[str, int], ...] = (
    ("", 60), ("grupo", 6), ("comercial", 5), ("importadora", 3), ("distribuidora", 3), ("corp", 3),
    ("inversiones", 2), ("servicios", 2), ("constructora", 2), ("agro", 2), ("tecno", 2), ("ferre", 2),
    ("farma", 2), ("textiles", 1), ("transportes", 1), ("industrias", 1), ("mega", 1), ("multi", 2),
)  # fmt: skip
WORDS: tuple[str, ...] = (
    "andina", "austro", "pacifico", "costa", "sierra", "oriente", "galapagos", "quito", "cuenca",
    "manabi", "loja", "ambato", "guayas", "tungurahua", "cotopaxi", "chimborazo", "amazonas", "condor",
    "puma", "sol", "luna", "mar", "rio", "valle", "monte", "norte", "sur", "centro", "ecuador",
    "equinoccial", "mitad", "esmeralda", "palmar", "cacao", "banano", "cafe", "flores", "rosas",
    "maderas", "acero", "vidrio", "papel", "plasticos", "alimentos", "lacteos", "carnes", "mariscos",
    "camaron", "atun", "granos", "semillas", "repuestos", "llantas", "motores", "electro", "hogar",
    "muebles", "salud", "medica", "dental", "optica", "vision", "nova", "alfa", "delta", "omega",
    "global", "digital", "sistemas", "redes", "logistica", "cargo", "express", "viajes", "turismo",
    "hotel", "moda", "calzado", "deportes", "aurora", "horizonte", "cumbre", "volcan", "laguna",
    "primavera", "estrella", "santa", "san", "santo", "villa", "ilinizas", "imbabura", "pichincha",
)  # fmt: skip
SUFFIXES: tuple[tuple[str, int], ...] = (
    ("", 62), ("sa", 8), ("ec", 8), ("cia", 4), ("ecuador", 4), ("group", 3), ("corp", 3), ("ltda", 2),
    ("plus", 2), ("2000", 1), ("net", 2), ("online", 1),
)  # fmt: skip
TLDS: tuple[tuple[str, int], ...] = (("com.ec", 38), ("com", 38), ("ec", 20), ("net", 4))
DIGEST_BYTES = 24  # six 4-byte draws


def mask_email(address: str) -> str:
    """'Juan.Perez@Empresa.com' -> 'j***@empresa.com'."""
    local, _, domain = address.strip().partition("@")
    return f"{local[:1].lower()}***@{domain.lower()}"


def decoy_mask(digest: bytes) -> str:
    """A masked address of the same shape and distribution as a customer's, chosen by `digest`
    (at least 24 bytes of a keyed hash: the same digest always gives the same mask)."""
    if len(digest) < DIGEST_BYTES:
        raise ValueError(f"need {DIGEST_BYTES} bytes of digest, got {len(digest)}")
    draws = [int.from_bytes(digest[i : i + 4], "big") for i in range(0, DIGEST_BYTES, 4)]
    initial = _pick(INITIALS, draws[0])
    if draws[1] % 100 < FREE_MAIL_PERCENT:
        return f"{initial}***@{_pick(FREE_MAIL, draws[2])}"
    name = _pick(PREFIXES, draws[2]) + WORDS[draws[3] % len(WORDS)] + _pick(SUFFIXES, draws[4])
    return f"{initial}***@{name}.{_pick(TLDS, draws[5])}"


def _pick(table: Sequence[tuple[str, int]], draw: int) -> str:
    """The entry a uniform 32-bit `draw` lands on, each entry as likely as its weight."""
    total = sum(weight for _, weight in table)
    point = draw % total
    for value, weight in table:
        if point < weight:
            return value
        point -= weight
    raise AssertionError("unreachable: point < total")
