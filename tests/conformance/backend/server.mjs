// SPDX-License-Identifier: GPL-3.0-or-later
// Reference backend for the MCP conformance tier: implements, on the official TypeScript SDK, the
// tools, resources and prompts that the server scenarios of @modelcontextprotocol/conformance
// call by name (each scenario's description states them), over streamable HTTP on loopback.
// Written here from those descriptions; see README.md for why the suite's own example is not used.
//
//   node server.mjs --port 3001        serves http://127.0.0.1:3001/mcp
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

// A 1x1 PNG and a 1-sample 8 kHz mono WAV, small enough to inline.
const PNG_1X1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV_1_SAMPLE = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([38, 0, 0, 0]),
  Buffer.from('WAVEfmt '),
  Buffer.from([16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]),
  Buffer.from('data'),
  Buffer.from([2, 0, 0, 0, 0, 0]),
]).toString('base64');

// SEP-1699: how long a client should wait before it reconnects to a stream the server closed.
const RETRY_MS = 200;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value) => ({ type: 'text', text: value });

const TOOLS = [
  { name: 'test_simple_text', description: 'Returns a simple text result' },
  { name: 'test_image_content', description: 'Returns a PNG image' },
  { name: 'test_audio_content', description: 'Returns a WAV clip' },
  { name: 'test_embedded_resource', description: 'Returns an embedded text resource' },
  { name: 'test_multiple_content_types', description: 'Returns text, an image and a resource' },
  { name: 'test_tool_with_logging', description: 'Sends three log messages while it runs' },
  { name: 'test_tool_with_progress', description: 'Reports progress 0, 50 and 100 of 100' },
  { name: 'test_error_handling', description: 'Always fails with isError' },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM',
    inputSchema: {
      type: 'object',
      properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
      required: ['prompt'],
    },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user for a username and an email',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string', description: 'The message to show the user' } },
      required: ['message'],
    },
  },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation with defaults (SEP-1034)' },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with enum schemas (SEP-1330)' },
  { name: 'test_reconnection', description: 'Closes its SSE stream mid-call (SEP-1699)' },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: {
          type: 'object',
          properties: { street: { type: 'string' }, city: { type: 'string' } },
        },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  },
].map((tool) => ({ inputSchema: { type: 'object', properties: {} }, ...tool }));

const RESOURCES = [
  {
    uri: 'test://static-text',
    name: 'static-text',
    description: 'A static text resource',
    mimeType: 'text/plain',
    text: 'This is the content of the static text resource.',
  },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    description: 'A static binary resource (PNG)',
    mimeType: 'image/png',
    blob: PNG_1X1,
  },
  {
    uri: 'test://watched-resource',
    name: 'watched-resource',
    description: 'A resource clients can subscribe to',
    mimeType: 'text/plain',
    text: 'Watched resource content.',
  },
];
const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
];
const COMPLETIONS = ['paris', 'park', 'party', 'test', 'testing', 'tested'];

async function log(server, extra, level, data) {
  if (!server.isMessageIgnored(level, extra.sessionId)) {
    await extra.sendNotification({ method: 'notifications/message', params: { level, data } });
  }
}

async function progress(extra, value) {
  const token = extra._meta?.progressToken;
  if (token !== undefined) {
    await extra.sendNotification({
      method: 'notifications/progress',
      params: { progressToken: token, progress: value, total: 100 },
    });
  }
}

function elicit(extra, message, properties, required = []) {
  return extra.sendRequest(
    { method: 'elicitation/create', params: { message, requestedSchema: { type: 'object', properties, required } } },
    ElicitResultSchema,
  );
}

const SEP1034_SCHEMA = {
  name: { type: 'string', description: 'User name', default: 'John Doe' },
  age: { type: 'integer', description: 'User age', default: 30 },
  score: { type: 'number', description: 'User score', default: 95.5 },
  status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
  verified: { type: 'boolean', description: 'Verification status', default: true },
};

const SEP1330_SCHEMA = {
  untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
  titledSingle: {
    type: 'string',
    oneOf: [
      { const: 'value1', title: 'First Option' },
      { const: 'value2', title: 'Second Option' },
      { const: 'value3', title: 'Third Option' },
    ],
  },
  legacyEnum: {
    type: 'string',
    enum: ['opt1', 'opt2', 'opt3'],
    enumNames: ['Option One', 'Option Two', 'Option Three'],
  },
  untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
  titledMulti: {
    type: 'array',
    items: {
      anyOf: [
        { const: 'value1', title: 'First Choice' },
        { const: 'value2', title: 'Second Choice' },
        { const: 'value3', title: 'Third Choice' },
      ],
    },
  },
};

async function callTool(server, name, args, extra) {
  switch (name) {
    case 'test_simple_text':
      return { content: [text('This is a simple text response for testing.')] };
    case 'test_image_content':
      return { content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }] };
    case 'test_audio_content':
      return { content: [{ type: 'audio', data: WAV_1_SAMPLE, mimeType: 'audio/wav' }] };
    case 'test_embedded_resource':
      return {
        content: [
          {
            type: 'resource',
            resource: {
              uri: 'test://embedded-resource',
              mimeType: 'text/plain',
              text: 'This is an embedded resource content.',
            },
          },
        ],
      };
    case 'test_multiple_content_types':
      return {
        content: [
          text('Multiple content types test:'),
          { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: {
              uri: 'test://mixed-content-resource',
              mimeType: 'application/json',
              text: JSON.stringify({ test: 'data', value: 123 }),
            },
          },
        ],
      };
    case 'test_tool_with_logging':
      await log(server, extra, 'info', 'Tool execution started');
      await sleep(50);
      await log(server, extra, 'info', 'Tool processing data');
      await sleep(50);
      await log(server, extra, 'info', 'Tool execution completed');
      return { content: [text('Tool with logging executed successfully')] };
    case 'test_tool_with_progress':
      await progress(extra, 0);
      await sleep(50);
      await progress(extra, 50);
      await sleep(50);
      await progress(extra, 100);
      return { content: [text('Tool with progress executed successfully')] };
    case 'test_error_handling':
      return { isError: true, content: [text('This tool intentionally returns an error for testing')] };
    case 'test_sampling': {
      const result = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: text(String(args.prompt ?? '')) }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      const reply = result.content?.type === 'text' ? result.content.text : JSON.stringify(result.content);
      return { content: [text(`LLM response: ${reply}`)] };
    }
    case 'test_elicitation': {
      const result = await elicit(
        extra,
        String(args.message ?? ''),
        {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        ['username', 'email'],
      );
      return { content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
    }
    case 'test_elicitation_sep1034_defaults':
    case 'test_elicitation_sep1330_enums': {
      const schema = name === 'test_elicitation_sep1034_defaults' ? SEP1034_SCHEMA : SEP1330_SCHEMA;
      const result = await elicit(extra, 'Please review and submit the form', schema);
      return {
        content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)],
      };
    }
    case 'test_reconnection':
      // Close this request's SSE stream, then answer: the answer reaches the client from the
      // event store when it reconnects with Last-Event-ID.
      await sleep(50);
      extra.closeSSEStream?.();
      await sleep(RETRY_MS * 2);
      return { content: [text('Reconnection test completed successfully')] };
    case 'json_schema_2020_12_tool':
      return { content: [text(`Received: ${JSON.stringify(args)}`)] };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
}

function readResource(uri) {
  const resource = RESOURCES.find((r) => r.uri === uri);
  if (resource) {
    const { name, description, ...content } = resource; // eslint-disable-line no-unused-vars
    return { contents: [content] };
  }
  const match = TEMPLATE.exec(uri);
  if (match) {
    const id = decodeURIComponent(match[1]);
    const data = { id, templateTest: true, data: `Data for ID: ${id}` };
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(data) }] };
  }
  throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`);
}

function getPrompt(name, args) {
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
    case 'test_prompt_with_arguments':
      return {
        messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`) }],
      };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: { uri: args.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
            },
          },
          { role: 'user', content: text('Please process the embedded resource above.') },
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: PNG_1X1, mimeType: 'image/png' } },
          { role: 'user', content: text('Please analyze the image above.') },
        ],
      };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  }
}

function newServer() {
  const server = new Server(
    { name: 'agentopia-conformance-backend', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: true, listChanged: false },
        prompts: { listChanged: false },
        logging: {},
        completions: {},
      },
    },
  );
  const subscriptions = new Set();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(server, request.params.name, request.params.arguments ?? {}, extra),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: RESOURCES.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: 'test://template/{id}/data',
        name: 'template-data',
        description: 'Data for one id',
        mimeType: 'application/json',
      },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(request.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async (request) =>
    getPrompt(request.params.name, request.params.arguments ?? {}),
  );
  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const prefix = String(request.params.argument?.value ?? '');
    const values = COMPLETIONS.filter((value) => value.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

// Resumability (SEP-1699): every event a stream carried, so a client that reconnects with
// Last-Event-ID gets what it missed. Per session; sessions here live for one scenario.
class MemoryEventStore {
  constructor() {
    this.events = []; // [eventId, streamId, message]
  }

  async storeEvent(streamId, message) {
    const eventId = `${streamId}_${this.events.length}`;
    this.events.push([eventId, streamId, message]);
    return eventId;
  }

  async getStreamIdForEventId(eventId) {
    return this.events.find(([id]) => id === eventId)?.[1];
  }

  async replayEventsAfter(lastEventId, { send }) {
    const index = this.events.findIndex(([id]) => id === lastEventId);
    if (index < 0) return '';
    const streamId = this.events[index][1];
    for (const [id, stream, message] of this.events.slice(index + 1)) {
      if (stream === streamId) await send(id, message);
    }
    return streamId;
  }
}

function hostAllowed(value) {
  if (!value) return true;
  try {
    return LOCAL_HOSTS.has(new URL(value.includes('://') ? value : `http://${value}`).hostname);
  } catch {
    return false;
  }
}

function reply(res, status, message) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

const isInitialize = (body) =>
  (Array.isArray(body) ? body : [body]).some((message) => message?.method === 'initialize');

function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '3001' } } });
  const sessions = new Map();

  const http = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname !== '/mcp') return reply(res, 404, 'Not found');
      // DNS rebinding: a loopback server answers only loopback names.
      if (!hostAllowed(req.headers.host) || !hostAllowed(req.headers.origin)) {
        return reply(res, 403, 'Forbidden: Host or Origin is not a loopback name');
      }
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = sessionId ? sessions.get(sessionId) : undefined;
      if (!transport) {
        if (sessionId) return reply(res, 404, 'Session not found');
        if (req.method !== 'POST' || !isInitialize(body)) return reply(res, 400, 'Missing mcp-session-id');
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          eventStore: new MemoryEventStore(),
          retryInterval: RETRY_MS,
          onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => sessions.delete(transport.sessionId);
        await newServer().connect(transport);
      }
      await transport.handleRequest(req, res, body);
    } catch (error) {
      if (!res.headersSent) reply(res, error instanceof SyntaxError ? 400 : 500, String(error.message ?? error));
    }
  });
  http.listen(Number(values.port), '127.0.0.1', () => {
    console.log(`conformance backend listening on http://127.0.0.1:${values.port}/mcp`);
  });
  const stop = () => http.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
