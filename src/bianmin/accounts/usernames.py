"""When two user names are "the same" to a person reading them.

``gudong_clеrk`` (a Cyrillic е) beside ``gudong_clerk``, or ``Gudong_Clerk``, reads as the same
account in the audit log, on a list of accounts and in a message "your account was changed by
…". A new user name is refused when its key equals an existing one's: the name in Unicode's
compatibility form (full-width letters as ASCII), case-folded, with the letters that look like
Latin ones (Cyrillic, Greek, a few ASCII look-alikes such as 1/l and 0/o) replaced by them —
in the spirit of Unicode TR39's skeletons, for the scripts a user name here is typed in."""

from __future__ import annotations

import unicodedata

# Lower case only: the name is case-folded first. Cyrillic and Greek letters drawn like Latin
# ones in common fonts (upper-case forms included, through their lower-case letters), and
# the ASCII pairs people misread.
_LOOKALIKE = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "с": "c", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "х": "x",
    "ԝ": "w", "ԁ": "d", "ь": "b", "ѵ": "v",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ϲ": "c", "ϳ": "j", "μ": "u", "ζ": "z",
    # Latin look-alikes and ASCII pairs
    "ı": "i", "ɡ": "g", "ɑ": "a", "ɩ": "i", "ʟ": "l", "1": "l", "|": "l", "0": "o",
})


def username_key(name: str) -> str:
    """The form two user names share when a reader would take them for the same."""
    key = unicodedata.normalize("NFKC", name or "").casefold().translate(_LOOKALIKE)
    # Marks a reader overlooks (an accent added to a look-alike) do not make a new name.
    key = "".join(ch for ch in unicodedata.normalize("NFD", key) if not unicodedata.combining(ch))
    return key.replace("rn", "m").replace("vv", "w")
