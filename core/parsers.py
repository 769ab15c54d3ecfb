"""The API's JSON parser: DRF's, with a 400 for a body nested too deeply to parse.

DRF's parser turns a ValueError into a ParseError (400), but Python's json
module raises RecursionError for a document of a few thousand nested
brackets, which would be a 500.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
