"""Phone numbers in the one form the gateway routes by: E.164 (semantics.md §3)."""

import phonenumbers

# The gateway parses with region DE first, then retries these regions in this order.
GATEWAY_REGIONS = ("DE", "AT", "CH", "FR", "NL", "BE")


def to_e164(raw: str | None) -> str | None:
    """The E.164 form the gateway's inbound-call lookup compares with, or None if not a number."""
    text = (raw or "").strip()
    if not text:
        return None
    for region in GATEWAY_REGIONS:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None
