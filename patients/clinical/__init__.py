"""Pure clinical rules: plain Python, no Django, time always passed in.

Every threshold is a named constant citing its source (keys in
``sources.SOURCES``); every result carries its basis.
"""
