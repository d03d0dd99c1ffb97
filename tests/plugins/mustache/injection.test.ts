import { mustacheRenderer } from "../../../plugins/mustache/index.ts";
import { injectionSuite } from "../../support/injection.ts";

injectionSuite("mustache", mustacheRenderer(), {
  json: '{"name": {{#json}}{{customer.name}}{{/json}}, "n": 1}',
  xml: '<c><n>{{#xml}}{{customer.name}}{{/xml}}</n><a x="{{#xml}}{{customer.name}}{{/xml}}"/></c>',
  raw: "{{customer.name}}",
});
