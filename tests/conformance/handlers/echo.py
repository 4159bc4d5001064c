"""echo: logs the event and returns it."""

import json


def handler(event, context):
    print(json.dumps(event))
    return event
