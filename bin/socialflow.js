#!/usr/bin/env node
// The `socialflow` command: runs the built entry point (npm install builds it).
import '../dist/src/main.js';
