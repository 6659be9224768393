"""Korean particles (조사) that follow the word before them.

A particle's form depends on whether the syllable before it ends in a
consonant (받침): "예정으로" but "마감으로", "서울로" (ㄹ takes 로), "장터를"
but "시장을". Translations write the unresolved form ("'%(status)s'(으)로"),
since the word is only known when the message is formatted;
`resolve_particles` picks the form once it is. Pure functions, no imports of
the app: every area (and the gettext hook in market.extensions) uses them."""

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
