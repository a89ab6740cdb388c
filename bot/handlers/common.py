"""Spanish phrases several handlers share, so the bot says the same thing the same way."""

from __future__ import annotations

HANDOFF_OPTION = "Hablar con un asesor"
TOPIC_OPTIONS = (
    "Primer ingreso a Perseo WEB",
    "Firma electrónica para facturación electrónica",
    "Formas de pago",
    "Capacitaciones gratuitas por Zoom",
)
CAPABILITIES = (
    "el primer ingreso y sus credenciales, la facturación electrónica y la firma, las "
    "capacitaciones y tutoriales, las horas de soporte y los pagos de su licencia"
)
HOW_TO_REACH_ADVISOR = (
    "Para hablar con una persona, pida a su Asesor de Ventas el teléfono del asesor de "
    "implementación que le brinda soporte."
)
