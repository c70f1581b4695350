// Stylesheets imported for esbuild to bundle beside the panel's script.
declare module '*.css';
