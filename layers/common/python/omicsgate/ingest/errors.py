class InputError(Exception):
    """A malformed input file: names the file, the line and the field."""

    def __init__(self, path: str, line: int, field: str, problem: str) -> None:
        super().__init__(f"{path}:{line}: field {field}: {problem}")
        self.path, self.line, self.field, self.problem = path, line, field, problem
