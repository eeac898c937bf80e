// autocannon ships no type definitions; the shapes used are in test/helpers/autocannon.ts.
declare module 'autocannon';
