"""`textgen-course`: the course's command line (also `python -m textgen_utils`).

    textgen-course run [LESSON ...]       execute lessons in smoke mode, print a table
    textgen-course release [LESSON ...]   regenerate notebooks/ from solutions/
    textgen-course relink                 rewrite install cells and badges from pyproject.toml
    textgen-course check [LESSON ...]     course-wide consistency checks
    textgen-course grade DIR --assignment NN_slug   autograde a folder of submissions
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textgen_utils.errors import CourseError


def _cmd_run(args) -> int:
    from textgen_utils import course, runner

    root = course.find_root()
    chosen = course.lessons(root, args.lessons)
    build = Path(args.build_dir) if args.build_dir else root / "build"
    print(f"Running {len(chosen)} lesson(s) in {args.mode} mode; executed copies go to {build}/")
    results = runner.run_lessons(chosen, build, mode=args.mode, store=args.store)
    print()
    print(runner.format_table(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"\n=== {r.lesson} FAILED ===\n{r.error}", file=sys.stderr)
    print(f"\n{len(results) - len(failed)}/{len(results)} lessons ok")
    return 1 if failed else 0


def _cmd_release(args) -> int:
    from textgen_utils import course

    root = course.find_root()
    for lesson in course.lessons(root, args.lessons):
        path = course.release(lesson)
        print(f"released {lesson.slug} -> {path.relative_to(root)}")
    return 0


def _cmd_relink(args) -> int:
    from textgen_utils import links

    changed = links.relink()
    for path in changed:
        print(f"updated {path}")
    print(f"{len(changed)} file(s) updated; run `make release` to regenerate notebooks/")
    return 0


def _cmd_check(args) -> int:
    from textgen_utils import checks

    findings = checks.run_checks(validate=not args.no_validate, only=args.lessons)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s)" if findings else "check: clean")
    return 1 if findings else 0


def _cmd_grade(args) -> int:
    from textgen_utils import course, grading

    lesson = course.lessons(only=[args.assignment])[0]
    out = Path(args.out) if args.out else Path("graded") / lesson.slug
    results = grading.grade_folder(Path(args.submissions), lesson.slug, out, jobs=args.jobs,
                                   cell_timeout=args.timeout, student_timeout=args.student_timeout)
    print(f"grades: {out / 'grades.csv'}\nfeedback: {out / 'feedback'}/")
    return 0 if results else 1


def build_parser() -> argparse.ArgumentParser:
    from textgen_utils import grading  # its defaults appear in the help

    parser = argparse.ArgumentParser(prog="textgen-course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute lesson notebooks and print a summary table")
    run.add_argument("lessons", nargs="*", help="lesson slugs or numbers (default: all)")
    run.add_argument("--mode", choices=["smoke", "full"], default="smoke")
    run.add_argument("--build-dir", help="where executed copies go (default: build/)")
    run.add_argument("--store", action="store_true", help="also write the outputs back into solutions/")
    run.set_defaults(func=_cmd_run)

    rel = sub.add_parser("release", help="regenerate notebooks/ from solutions/ with nbgrader")
    rel.add_argument("lessons", nargs="*", help="lesson slugs or numbers (default: all)")
    rel.set_defaults(func=_cmd_release)

    link = sub.add_parser("relink", help="rewrite the repository address in notebooks and README")
    link.set_defaults(func=_cmd_relink)
    chk = sub.add_parser("check", help="course-wide consistency checks (release, tests, languages, glossary)")
    chk.add_argument("lessons", nargs="*", help="lesson slugs or numbers (default: all)")
    chk.add_argument("--no-validate", action="store_true",
                     help="skip nbgrader's validator (the only check that executes notebooks)")
    chk.set_defaults(func=_cmd_check)

    grade = sub.add_parser("grade", help="autograde a folder of submissions (smoke mode)")
    grade.add_argument("submissions", help="a folder of <student>.ipynb files, or nbgrader's submitted/ layout")
    grade.add_argument("--assignment", required=True, help="lesson slug or number, e.g. 01_sampling")
    grade.add_argument("--out", help="output folder (default: graded/<assignment>)")
    grade.add_argument("--jobs", type=int, default=None, help="students graded at once (default: CPU count)")
    grade.add_argument("--timeout", type=int, default=grading.DEFAULT_CELL_TIMEOUT,
                       help=f"seconds per cell (default: {grading.DEFAULT_CELL_TIMEOUT})")
    grade.add_argument("--student-timeout", type=int, default=grading.DEFAULT_STUDENT_TIMEOUT,
                       help=f"seconds per student (default: {grading.DEFAULT_STUDENT_TIMEOUT})")
    grade.set_defaults(func=_cmd_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
