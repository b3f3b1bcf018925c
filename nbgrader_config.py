"""nbgrader settings for the course (instructors: run nbgrader commands from this folder)."""

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.course_id = "textgen-course"
# Instructor versions (solutions, hidden tests) live in solutions/; the student
# versions that `textgen-course release` generates live in notebooks/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"  # instructors running nbgrader here (ignored by git)

# Grading runs every notebook in smoke mode (nbgrader sets NBGRADER_EXECUTION).
c.Execute.kernel_name = "python3"
c.Execute.timeout = 120  # seconds per cell; a looping submission is interrupted
c.Execute.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True  # deleted test cells are restored and graded
c.LimitOutput.max_lines = 200  # a submission that prints megabytes stays readable

c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요. / YOUR CODE HERE\nraise NotImplementedError()"
}
c.ClearSolutions.text_stub = "여기에 답을 쓰세요. / YOUR ANSWER HERE"
# Quiet kernels (no history file, no transport warnings in the grading log).
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
