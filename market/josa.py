"""Korean particles (조사) that follow the word before them.

A particle's form depends on whether the syllable before it ends in a
consonant (받침): "예정으로" but "마감으로", "서울로" (ㄹ takes 로), "장터를"
but "시장을". Translations write the unresolved form ("'%(status)s'(으)로"),
since the word is only known when the message is formatted; `fill` formats
it and picks the form of each of its markers from what precedes it, never
touching a marker inside a value (a name typed "사과이(가)" is data, shown as
typed). Pure functions, no imports of the app: every area, the gettext hook
(market.extensions.ParticleDomain) and templates' _() (market.core.i18n) use
them."""

import re

# (with a final consonant, without one) for each particle pair we write.
_PAIRS = {
    "으로/로": ("으로", "로"),
    "을/를": ("을", "를"),
    "이/가": ("이", "가"),
    "은/는": ("은", "는"),
    "과/와": ("과", "와"),
    "이에요/예요": ("이에요", "예요"),
    "이나/나": ("이나", "나"),
}
# The unresolved forms as translators write them, and the pair each stands for.
_MARKERS = {
    "(으)로": "으로/로",
    "을(를)": "을/를",
    "를(을)": "을/를",
    "이(가)": "이/가",
    "가(이)": "이/가",
    "은(는)": "은/는",
    "는(은)": "은/는",
    "와(과)": "과/와",
    "과(와)": "과/와",
}
_MARKER = re.compile("|".join(re.escape(marker) for marker in _MARKERS))

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # ㄹ among the 28 finals (0 = none)
# How a digit is read (Sino-Korean) ends: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINALS = {"0": 21, "1": 8, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": 8, "8": 8, "9": 0}
# Trailing zeros of a number are read as a unit: 십 백 천 만 (and beyond 만,
# a unit with a final too: 십만, 억; 조 only at twelve zeros).
_ZERO_UNIT_FINALS = {1: 17, 2: 1, 3: 4}
# Capital letters read by their name: only L, M, N and R end in a consonant
# (엘, 엠, 엔, 알); a "word" in Latin letters is not guessed.
_LETTER_FINALS = {"L": 8, "M": 16, "N": 4, "R": 8}

# What may stand between the word and its particle without being read:
# closing quotes and brackets, markup (a tag, an escaped quote), spaces.
_SILENT_TAIL = re.compile(r"(?:<[^<>]*>|&#?\w+;|[\s'\"’”)\]」』>»])+$")


def final_consonant(text: str) -> int | None:
    """The final consonant (0 for none, 8 for ㄹ, …) with which `text` is
    read aloud, or None when that is not simple to tell (a Latin word, an
    emoji): callers then keep the form that reads either way."""
    text = _SILENT_TAIL.sub("", text)
    if not text:
        return None
    last = text[-1]
    if _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return (ord(last) - _HANGUL_FIRST) % 28
    if last.isdigit() and last.isascii():
        digits = re.search(r"[\d,]+$", text).group().replace(",", "")
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros == 0 or zeros == len(digits):  # ends in 1-9, or is 0 itself
            return _DIGIT_FINALS[digits[-1]]
        if zeros in _ZERO_UNIT_FINALS:
            return _ZERO_UNIT_FINALS[zeros]
        return 0 if zeros == 12 else 4
    if "A" <= last <= "Z" and not (len(text) > 1 and "a" <= text[-2] <= "z"):
        return _LETTER_FINALS.get(last, 0)  # an abbreviation, read letter by letter
    return None


def particle(word: str, pair: str) -> str | None:
    """The form of `pair` ("으로/로", "을/를", …) that follows `word`, or
    None when the word's ending cannot be told."""
    with_final, without = _PAIRS[pair]
    final = final_consonant(word)
    if final is None:
        return None
    if pair == "으로/로" and final == _RIEUL:
        return without
    return with_final if final else without


def josa(word, pair: str) -> str:
    """`word` with its particle: josa("예정", "으로/로") -> "예정으로",
    josa("서울", "으로/로") -> "서울로"; a word whose ending cannot be told
    gets the form that reads either way ("email(으)로")."""
    word = str(word)
    chosen = particle(word, pair)
    if chosen is None:
        with_final, without = _PAIRS[pair]
        if pair == "으로/로":
            return f"{word}(으)로"
        return f"{word}{with_final}({without})"
    return word + chosen


def resolve_particles(text: str) -> str:
    """Every unresolved particle in `text` ("'예정'(으)로", "장터이(가)")
    turned into the form its word takes; one whose word cannot be told stays
    as it is. Safe on markup: only the marker itself is replaced."""
    if "(" not in text:
        return text

    def choose(match: re.Match) -> str:
        chosen = particle(text[: match.start()], _MARKERS[match.group()])
        return match.group() if chosen is None else chosen

    return _MARKER.sub(choose, text)


# -- filling a translated message ------------------------------------------------------

# A %-conversion as Python's % operator reads it: %(name)s, %s, %5.2f, %%.
_CONVERSION = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def _has_conversion(text: str) -> bool:
    return any(match.group(2) != "%" for match in _CONVERSION.finditer(text))


def fill(text: str, values) -> str:
    """`text % values`, with the particle markers written in `text` itself
    fitted to what comes before them once the values are in:
    fill("'%(status)s'(으)로", {"status": "예정"}) -> "'예정'으로".

    Only `text` is a translation; the values are data (names, dates, what
    someone typed) and are put in as they are: a marker inside a value is
    not ours to fit, so fill("%(name)s을(를)", {"name": "사과이(가)"}) keeps
    "사과이(가)" and fits 을(를) to the value as it is read, its closing
    bracket silent (final_consonant): "사과이(가)를". The text is formatted
    piece by piece, the literal pieces between markers, each marker chosen
    by everything written before it. Markup stays Markup: its pieces escape
    the values as Markup's % does, and the marker reads past an escaped
    quote as resolve_particles does. A text without markers is simply
    `text % values`."""
    if "(" not in text or _MARKER.search(text) is None:
        return text % values
    if isinstance(text, Unfilled):
        text = str(text[:])
    written = type(text)()
    positional = _positional(values)
    start = 0
    for match in _MARKER.finditer(text):
        piece = text[start : match.start()]
        written += _format_piece(text, piece, values, positional)
        chosen = particle(written, _MARKERS[match.group()])
        written += match.group() if chosen is None else chosen
        start = match.end()
    written += _format_piece(text, text[start:], values, positional)
    if positional:  # as `%` does: a value no conversion takes is a mistake
        raise TypeError("not all arguments converted during string formatting")
    return written


def _positional(values) -> list | None:
    """The values still to be used, in order, when `values` is not a
    mapping (a tuple, or one value); None for a mapping."""
    if isinstance(values, tuple):
        return list(values)
    if hasattr(values, "keys") and not isinstance(values, str):
        return None
    return [values]


def _format_piece(text: str, piece: str, values, positional: list | None) -> str:
    """One literal piece of `text` formatted: with the mapping, or with as
    many of the positional values as it has conversions. A piece of Markup
    is Markup, so its values are escaped."""
    if type(text) is not str:
        piece = type(text)(piece)
    if positional is None:
        return piece % values
    wanted = sum(
        1 + match.group(0).count("*")
        for match in _CONVERSION.finditer(piece)
        if match.group(2) != "%"
    )
    used, positional[:wanted] = tuple(positional[:wanted]), []
    return piece % used


class Unfilled(str):
    """A translation with placeholders and particle markers, asked for
    without its values (a lazy label formatted later with %: validators'
    messages, WTForms' `message % dict(...)`): % fills it through fill(),
    so its markers are fitted to the values then. str() keeps it as it is
    (a lazy string's str() hands it on to the %)."""

    __slots__ = ()

    def __str__(self):
        return self

    def __mod__(self, values):
        return fill(str(self[:]), values)


def translated(text: str, variables: dict) -> str:
    """A catalogue's text for the gettext hook (market.extensions): filled
    with `variables` (fill), or, asked without them, its markers fitted
    to its own words, kept Unfilled when it still has values to take."""
    if variables:
        return fill(text, variables)
    if "(" not in text or _MARKER.search(text) is None:
        return text
    if _has_conversion(text):
        return Unfilled(text)
    return resolve_particles(text)
