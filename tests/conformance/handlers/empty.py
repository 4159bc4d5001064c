"""empty: AWS's test uses a provided.al2023 binary answering a zero-byte body; our runtime runs Python, so the
nearest is a bare return (body ``null``), which a mapping also reads as success."""


def handler(event, context):
    return
