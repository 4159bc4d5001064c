"""Returns the environment and the credentials boto3 resolves inside the handler."""

import os
import sys

import boto3


def handler(event, context):
    creds = boto3.Session().get_credentials()
    frozen = creds.get_frozen_credentials() if creds else None
    return {
        "environ": dict(os.environ),
        "credentials": [frozen.access_key, frozen.secret_key, frozen.token] if frozen else None,
        "credential_method": creds.method if creds else None,
        "profile": boto3.Session().profile_name,
        "sys_path": sys.path,
        "cwd": os.getcwd(),
        "home_listing": sorted(os.listdir(os.environ["HOME"])),
    }
