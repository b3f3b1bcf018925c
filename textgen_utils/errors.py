"""Bilingual error messages: Korean first, then English, as everywhere in the course."""


def bilingual(ko: str, en: str) -> str:
    """Join a Korean and an English sentence into one message."""
    return f"{ko}\n{en}"


class CourseError(RuntimeError):
    """An error a learner can act on (missing data, bad settings)."""

    def __init__(self, ko: str, en: str, detail: str = ""):
        super().__init__(bilingual(ko, en) + (f"\n{detail}" if detail else ""))
        self.ko = ko
        self.en = en


def check_int(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int, or a bilingual ValueError unless it is an integer >= ``minimum`` (bools rejected)."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(bilingual(f"{name}은(는) {minimum} 이상의 정수여야 합니다. 받은 값: {value!r}",
                                   f"{name} must be an integer >= {minimum}; got {value!r}."))
    return int(value)
