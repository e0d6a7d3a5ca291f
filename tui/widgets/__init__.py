"""The workbench's widgets, one package per part of the screen."""
