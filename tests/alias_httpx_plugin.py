"""Loaded first by pytest (`-p alias_httpx_plugin`), before respx's own plugin.

openai 3.x and anthropic 2.x talk through httpx2; respx patches `httpx`. Aliasing
makes `httpx` *be* httpx2, so respx's patches intercept the SDKs' traffic. It has
to run before anything imports httpx, which is why it cannot live in conftest.py.
"""

import httpx2

httpx2.alias_httpx()
