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
